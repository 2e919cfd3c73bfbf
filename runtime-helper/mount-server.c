/*
 * `tsbuild-helper --mount-server`: the mounts of `--mount` and `--umount` (mount-cmd.c), many
 * in one process. A build makes ~10 of them a RUN step, and each spawn from Node costs a fork
 * of Node, whose price grows with its heap (1 ms at a small one, ~7 ms at 100 MB: the page
 * tables are copied); executor/mount.ts sends them here instead, one at a time.
 *
 * Request, on stdin: a u32 length (little-endian), then that many bytes of NUL-terminated
 * strings: the directory to work in (an overlay's lowerdirs are relative to it), "--mount"
 * or "--umount", then that command's arguments. Response, on stdout: a u32 exit code and a
 * u32 length, then that many bytes: the command's one-line error, empty on success. It ends
 * at the end of its input, or with its parent (PDEATHSIG), and exits 2 on a malformed request.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "helper.h"

#define MAX_REQUEST 65536
#define MAX_ARGS 16

static int read_full(int fd, unsigned char *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

static uint32_t get_u32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* One request in `req` (n bytes): its exit code, its error line in err. */
static int serve_one(char *req, size_t n, char *err, size_t errlen)
{
    char *args[MAX_ARGS];
    int argc = 0;
    for (size_t at = 0; at < n && argc < MAX_ARGS;) {
        args[argc++] = req + at;
        at += strlen(req + at) + 1;
    }
    if (argc < 2) {
        snprintf(err, errlen, "mount-server: a request needs a directory and a command");
        return 2;
    }
    if (chdir(args[0]) < 0) {
        snprintf(err, errlen, "mount-server: chdir %s: %s", args[0], strerror(errno));
        return 32;
    }
    if (strcmp(args[1], "--mount") == 0) return do_mount(argc - 2, args + 2, err, errlen);
    if (strcmp(args[1], "--umount") == 0) return do_umount(argc - 2, args + 2, err, errlen);
    snprintf(err, errlen, "mount-server: unknown command %s", args[1]);
    return 2;
}

int mount_server_main(void)
{
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent) return 1;
    static unsigned char req[MAX_REQUEST + 1];
    for (;;) {
        unsigned char head[4];
        if (read_full(0, head, 4) < 0) return 0; /* end of input: tsbuild is done */
        uint32_t n = get_u32(head);
        if (n == 0 || n > MAX_REQUEST || read_full(0, req, n) < 0) return 2;
        req[n] = 0; /* the last string ends even if the sender forgot its NUL */
        char err[512] = "";
        int code = serve_one((char *)req, n, err, sizeof err);
        size_t len = strlen(err);
        unsigned char out[8 + sizeof err];
        put_u32(out, (uint32_t)code);
        put_u32(out + 4, (uint32_t)len);
        memcpy(out + 8, err, len);
        if (write_all(1, out, 8 + len) < 0) return 0;
    }
}
