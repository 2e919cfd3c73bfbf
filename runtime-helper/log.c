/*
 * The output of a detached container (`run -d`) for `tsbuild logs`: a relay process,
 * forked before anything else, reads the container's stdout and stderr from two pipes
 * and appends one record per line (or per partial chunk):
 *     <RFC 3339 UTC time with ns> <stdout|stderr> <LEN>\n<LEN bytes>
 * (store/container-logs.ts reads them). Past log_max bytes the file moves to LOG.1 and a
 * new one starts, so a chatty container holds at most twice that. It ends when every
 * writer is gone: the container and the helper.
 * A foreground container (log_tee=1) is logged too, as Docker does: the relay also passes
 * every byte on, as it comes, to the helper's own stdout and stderr; once a reader of those
 * is gone (the CLI was killed) it goes on logging alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

#define DEFAULT_LOG_MAX (10UL << 20)

static int log_fd = -1;
static unsigned long log_size;
static int tee_fd[2] = {-1, -1};

static int open_log(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    struct stat st;
    log_size = fd >= 0 && fstat(fd, &st) == 0 ? (unsigned long)st.st_size : 0;
    return fd;
}

static void record(const struct spec *spec, const char *stream, const char *data, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char head[96];
    int n = snprintf(head, sizeof head, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ %s %zu\n", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec, stream, len);
    unsigned long max = spec->log_max ? spec->log_max : DEFAULT_LOG_MAX;
    if (log_size > 0 && log_size + (size_t)n + len > max) {
        char old[4200];
        snprintf(old, sizeof old, "%s.1", spec->log_file);
        rename(spec->log_file, old);
        close(log_fd);
        log_fd = open_log(spec->log_file);
    }
    /* one write per record, so a reader never sees a header without its bytes for long */
    char buf[96 + 8192];
    memcpy(buf, head, (size_t)n);
    memcpy(buf + n, data, len);
    write_all(log_fd, buf, (size_t)n + len);
    log_size += (size_t)n + len;
}

/* Split what one read gave into lines; a line longer than the buffer goes as chunks. */
static void relay(const struct spec *spec)
{
    static const char *names[2] = {"stdout", "stderr"};
    char pending[2][8192];
    size_t have[2] = {0, 0};
    int open_n = 2;
    struct pollfd p[2] = {{3, POLLIN, 0}, {4, POLLIN, 0}};
    while (open_n > 0) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t r = read(p[i].fd, pending[i] + have[i], sizeof pending[i] - have[i]);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                if (have[i]) record(spec, names[i], pending[i], have[i]);
                have[i] = 0;
                p[i].fd = -1;
                open_n--;
                continue;
            }
            if (tee_fd[i] >= 0 && write_all(tee_fd[i], pending[i] + have[i], (size_t)r) < 0) tee_fd[i] = -1;
            have[i] += (size_t)r;
            char *start = pending[i], *nl;
            while ((nl = memchr(start, '\n', have[i] - (size_t)(start - pending[i])))) {
                record(spec, names[i], start, (size_t)(nl - start) + 1);
                start = nl + 1;
            }
            size_t rest = have[i] - (size_t)(start - pending[i]);
            if (rest == sizeof pending[i]) { /* a full buffer without a newline */
                record(spec, names[i], pending[i], rest);
                rest = 0;
            }
            memmove(pending[i], start, rest);
            have[i] = rest;
        }
    }
}

static int terminal_fd = 1;

/* Where stdout went before log_start took fd 1: run -t reads the window size from it. */
int log_terminal(void) { return terminal_fd; }

void log_start(const struct spec *spec)
{
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) die("pipe", "log");
    log_fd = open_log(spec->log_file);
    if (log_fd < 0) die("open", spec->log_file);
    pid_t pid = fork();
    if (pid < 0) die("fork", "log");
    if (pid == 0) {
        close(out[1]);
        close(err[1]);
        if (dup2(out[0], 3) < 0 || dup2(err[0], 4) < 0) _exit(1);
        if (spec->log_tee) {
            signal(SIGPIPE, SIG_IGN); /* a gone reader is a failed write, not our end */
            /* run -t: the terminal relay writes the terminal itself (tty.c) and sends us a copy */
            tee_fd[0] = spec->tty ? -1 : fcntl(1, F_DUPFD_CLOEXEC, 5);
            tee_fd[1] = fcntl(2, F_DUPFD_CLOEXEC, 5);
        }
        for (int fd = 5; fd < 1024; fd++)
            if (fd != log_fd && fd != tee_fd[0] && fd != tee_fd[1]) close(fd);
        relay(spec);
        _exit(0);
    }
    close(log_fd);
    if (spec->log_tee) terminal_fd = fcntl(1, F_DUPFD_CLOEXEC, 5);
    close(out[0]);
    close(err[0]);
    if (dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) die("dup2", "log");
    close(out[1]);
    close(err[1]);
}
