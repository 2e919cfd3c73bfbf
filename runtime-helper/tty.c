/*
 * The terminal for `run -t`: the container's pid 1 opens a pty in its own devpts (so
 * `tty` inside names a /dev/pts entry that exists there) and sends the master to the
 * helper over the channel socket; the helper puts the caller's terminal in raw mode and
 * relays bytes, window size (SIGWINCH) and signals until the command ends.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <fcntl.h>
#include <unistd.h>

#include "helper.h"

#define TTY_GID 5
#define DEF_VEOF 4 /* ^D */

static void send_fd(int sock, int fd)
{
    char byte = 'M';
    struct iovec iov = {&byte, 1};
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) die("send pty master", NULL);
}

/* In the container, after /dev/pts is mounted: returns the slave, now our controlling tty. */
int tty_open_in_container(int sock, uid_t uid)
{
    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) die("open", "/dev/ptmx");
    if (unlockpt(master) < 0) die("unlockpt", "/dev/ptmx");
    int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (slave < 0) die("open pty slave", NULL);
    if (fchown(slave, uid, TTY_GID) < 0) die("chown pty slave", NULL);
    send_fd(sock, master);
    close(master);
    if (setsid() < 0) die("setsid", NULL);
    if (ioctl(slave, TIOCSCTTY, 0) < 0) die("ioctl TIOCSCTTY", NULL);
    for (int fd = 0; fd <= 2; fd++)
        if (dup2(slave, fd) < 0) die("dup2", "pty slave");
    if (slave > 2) close(slave);
    return 0;
}

/* Read the channel until it closes at exec: a pty master ("M" + fd) and/or a failure
 * ("F<code> <token>"). Returns the failure's exit code, or 0 when the command started. */
int tty_receive_master(int sock, int *master, char *reason, size_t reason_len)
{
    for (;;) {
        char buf[4400];
        struct iovec iov = {buf, sizeof buf - 1};
        union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } u;
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
        ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        buf[n] = '\0';
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (buf[0] == 'M' && c && c->cmsg_type == SCM_RIGHTS) memcpy(master, CMSG_DATA(c), sizeof(int));
        else if (buf[0] == 'F') {
            char *sp = strchr(buf, ' ');
            if (!sp) return EXIT_SETUP;
            strncpy(reason, sp + 1, reason_len - 1);
            reason[reason_len - 1] = '\0';
            return atoi(buf + 1);
        }
    }
}

static void copy_winsize(int from, int to)
{
    struct winsize ws;
    if (ioctl(from, TIOCGWINSZ, &ws) == 0) ioctl(to, TIOCSWINSZ, &ws);
}

/* A cooked terminal holds whole lines and end-of-file marks; both are read while it is still
 * cooked, since raw mode hands a pending end-of-file (^D; script(1) sends one for an empty
 * stdin) over as a NUL byte, which the container's terminal would echo as ^@. An end-of-file
 * goes on as the container terminal's own EOF character, as a raw relay passes a typed ^D. */
static void relay_cooked_input(const struct termios *host, int master)
{
    struct termios inner;
    char eof = tcgetattr(master, &inner) == 0 ? (char)inner.c_cc[VEOF] : DEF_VEOF;
    char buf[8192]; /* more than one cooked line holds (4096 bytes) */
    for (;;) {
        struct pollfd p = {0, POLLIN, 0};
        if (poll(&p, 1, 0) != 1 || p.revents != POLLIN) return; /* no whole line, or a hangup */
        ssize_t n = read(0, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return;
        if (n > 0 && write_all(master, buf, n) < 0) return;
        char last = n > 0 ? buf[n - 1] : '\0';
        int is_line = n > 0 && (last == '\n' || (last != '\0' && (last == (char)host->c_cc[VEOL] || last == (char)host->c_cc[VEOL2])));
        if (!is_line && write_all(master, &eof, 1) < 0) return; /* ended by EOF, not by a newline */
    }
}

/* Relay until the command has exited and its output is drained. */
int tty_relay(int master, int sigfd, pid_t child, int *status)
{
    struct termios saved;
    int is_raw = isatty(0) && tcgetattr(0, &saved) == 0;
    if (is_raw) {
        if (saved.c_lflag & ICANON) relay_cooked_input(&saved, master);
        struct termios raw = saved;
        cfmakeraw(&raw);
        tcsetattr(0, TCSANOW, &raw);
    }
    copy_winsize(isatty(0) ? 0 : log_terminal(), master);
    int terminal = log_terminal();
    signal(SIGPIPE, SIG_IGN); /* a gone reader of the terminal is a failed write, not our end */
    int stdin_open = 1, master_open = 1, exited = 0;
    char buf[8192];
    while (master_open || !exited) {
        struct pollfd p[3] = {{sigfd, POLLIN, 0}, {master_open ? master : -1, POLLIN, 0},
                              {stdin_open && master_open ? 0 : -1, POLLIN, 0}};
        if (poll(p, 3, exited ? 100 : -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (p[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGWINCH) copy_winsize(isatty(0) ? 0 : log_terminal(), master);
                else if (si.ssi_signo != SIGCHLD) report_forward(child, (int)si.ssi_signo);
                else if (!exited && waitpid(child, status, WNOHANG) == child) exited = 1;
            }
        }
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(master, buf, sizeof buf);
            if (n > 0) {
                /* Straight to the terminal while it is still raw (through the log relay it could
                 * land after the cooked mode is back, and \n would gain a \r); the log relay,
                 * when there is one, only records it. */
                if (terminal >= 0 && write_all(terminal, buf, n) < 0) terminal = -1;
                if (log_terminal() != 1) write_all(1, buf, n);
            } else if (n < 0 && errno == EINTR) continue;
            else master_open = 0; /* EIO: every slave fd is closed */
        } else if (exited && p[1].revents == 0) {
            master_open = 0; /* command gone and nothing left to read */
        }
        if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(0, buf, sizeof buf);
            if (n > 0) write_all(master, buf, n);
            else if (!(n < 0 && errno == EINTR)) {
                stdin_open = 0;
                /* A raw terminal has no EOF (^D is a byte): it hung up (its script(1) or window
                 * is gone), and nobody is left to type into the container or stop it. */
                if (is_raw) kill(child, SIGKILL);
            }
        }
    }
    if (is_raw) tcsetattr(0, TCSANOW, &saved);
    close(master);
    return 0;
}
