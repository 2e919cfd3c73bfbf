/*
 * How the helper tells what happened: die() and fail() for failures before exec (one
 * stderr line, a reason token, exit 125/126/127), report_wait() for the command's end
 * ("exited N" / "signaled N" on fd 4, the same code as our exit status).
 * Before exec the container's pid 1 has no fd 4: it sends "CODE TOKEN" over the channel
 * socket instead, and the parent writes the token after the child is gone.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

static int channel = -1;
static const char *status_file; /* a copy of the status line for `ps` when tsbuild is gone */

void report_set_channel(int sock) { channel = sock; }

/* The signals a helper passes on to its command (and SIGCHLD, SIGWINCH it acts on) wait in a
 * signalfd from here on; the child unblocks them before exec. */
int report_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    int forwarded[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&set, forwarded[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) die("sigprocmask", NULL);
    int sigfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sigfd < 0) die("signalfd", NULL);
    return sigfd;
}
void report_set_status_file(const char *path) { status_file = path; }

static pid_t owner;
void report_set_owner(pid_t pid) { owner = pid; }

/* Pass a signal on to pid 1; once the owner is gone (its death signal, or any signal after
 * it) the container is killed: nobody is left to read its output or stop it. */
void report_forward(pid_t child, int signo)
{
    kill(child, owner > 0 && getppid() != owner ? SIGKILL : signo);
}

const char *errno_name(int err)
{
    switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case E2BIG: return "E2BIG";
    case ENOEXEC: return "ENOEXEC";
    case EBADF: return "EBADF";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ETXTBSY: return "ETXTBSY";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ELOOP: return "ELOOP";
    case ENOSYS: return "ENOSYS";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ECHILD: return "ECHILD";
    case EADDRINUSE: return "EADDRINUSE";
    case ECONNREFUSED: return "ECONNREFUSED";
    default: return "EUNKNOWN";
    }
}

int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* temp file + rename, so a reader sees the whole line or nothing */
static void write_status_file(const char *buf, size_t len)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", status_file) >= (int)sizeof tmp) return;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return; /* e.g. run --rm already removed the dir */
    write_all(fd, buf, len);
    fsync(fd);
    close(fd);
    rename(tmp, status_file);
}

void report_status(int fd, const char *line)
{
    char buf[4200];
    int n = snprintf(buf, sizeof buf, "%s\n", line);
    if (n <= 0) return;
    size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
    if (status_file) write_status_file(buf, len);
    write_all(fd, buf, len);
}

_Noreturn void fail(int code, const char *op, int err, const char *arg)
{
    char token[4200];
    snprintf(token, sizeof token, "%s %s %s", op, errno_name(err), arg ? arg : "-");
    if (channel >= 0) {
        char msg[4300];
        int n = snprintf(msg, sizeof msg, "F%d %s", code, token);
        if (n > 0) send(channel, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1, MSG_NOSIGNAL);
        _exit(code);
    }
    report_status(STATUS_FD, token);
    _exit(code);
}

_Noreturn void die(const char *what, const char *path)
{
    int err = errno; /* saved before anything else can touch it */
    char line[4300];
    int n = snprintf(line, sizeof line, "tsbuild-helper: %s%s%s: %s\n", what, path ? " " : "",
                     path ? path : "", strerror(err));
    if (n > 0) write_all(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    fail(EXIT_SETUP, what, err, path);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    if (remove(path) < 0 && errno != ENOENT) {
        char line[4200];
        int n = snprintf(line, sizeof line, "tsbuild-helper: remove %s: %s\n", path, strerror(errno));
        if (n > 0) write_all(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    }
    return 0;
}

/* rm -rf without crossing into other mounts or following symlinks. */
void remove_tree(const char *path)
{
    nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* run --rm: the container's dir and its name link go when the command ends. */
void remove_all(const struct spec *spec)
{
    for (int i = 0; i < spec->n_remove; i++) remove_tree(spec->remove[i]);
}

/* Forward the signal a user sends to tsbuild to the container's pid 1. */
static int wait_plain(int sigfd, pid_t child, int *status)
{
    for (;;) {
        struct signalfd_siginfo si;
        ssize_t r = read(sigfd, &si, sizeof si);
        if (r < 0 && errno == EINTR) continue;
        if (r != (ssize_t)sizeof si) die("read signalfd", NULL);
        if (si.ssi_signo != SIGCHLD) {
            report_forward(child, (int)si.ssi_signo);
            continue;
        }
        pid_t p = waitpid(child, status, WNOHANG);
        if (p == child) return 0;
    }
}

int report_wait(pid_t child, int sigfd, int master, const struct spec *spec)
{
    int status = 0;
    if (master >= 0) tty_relay(master, sigfd, child, &status);
    else wait_plain(sigfd, child, &status);
    remove_all(spec);
    char line[64];
    int code;
    if (WIFSIGNALED(status)) {
        snprintf(line, sizeof line, "signaled %d", WTERMSIG(status));
        code = 128 + WTERMSIG(status);
    } else {
        snprintf(line, sizeof line, "exited %d", WEXITSTATUS(status));
        code = WEXITSTATUS(status);
    }
    report_status(STATUS_FD, line);
    return code;
}
