/*
 * The private network (network=private): the helper's new network namespace has loopback
 * and a tap0 that slirp4netns, a user-mode NAT running in the host's namespace, connects to
 * the outside. The host's loopback is not reachable through it (--disable-host-loopback),
 * nor are its abstract unix sockets (they belong to a network namespace).
 *
 * slirp4netns is forked before any unshare (so it is neither in the new namespaces nor pid 1
 * of the new pid namespace), waits until the helper has its new network namespace, then
 * attaches to it. It exits when the helper does: it watches the read end of a pipe whose
 * only write end the helper holds (--exit-fd), and it dies with the helper (PDEATHSIG).
 * The container's pid 1 waits for its "configured" byte (--ready-fd) just before exec, so
 * slirp4netns starts while the rootfs is mounted.
 *
 * A build's RUN steps share one such namespace (netns=PATH: the helper joins it with setns),
 * held by `tsbuild-helper --netns SLIRP` for the build's length: starting slirp4netns costs
 * more than a trivial RUN may (bench/RESULTS.md). The holder ends when its stdin closes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

#define READY_TIMEOUT_MS 30000

static void no_cloexec(int fd)
{
    if (fcntl(fd, F_SETFD, 0) < 0) _exit(EXIT_SETUP);
}

/* In the forked child: wait for the go byte, then become slirp4netns. */
static _Noreturn void run_slirp(const struct spec *spec, int go, int ready, int exit_fd, pid_t target)
{
    char byte, ready_arg[32], exit_arg[32], pid_arg[32];
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    setsid(); /* a Ctrl-C meant for the container must not end its network */
    if (read(go, &byte, 1) != 1) _exit(EXIT_SETUP); /* the helper gave up */
    no_cloexec(ready);
    no_cloexec(exit_fd);
    snprintf(ready_arg, sizeof ready_arg, "--ready-fd=%d", ready);
    snprintf(exit_arg, sizeof exit_arg, "--exit-fd=%d", exit_fd);
    snprintf(pid_arg, sizeof pid_arg, "%d", (int)target);
    const char *argv[] = {spec->slirp, "--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox",
                          "--enable-seccomp", ready_arg, exit_arg, pid_arg, "tap0", NULL, NULL, NULL};
    if (spec->slirp_api) { /* run -p: forwards are added through it (net_publish) */
        argv[8] = "--api-socket";
        argv[9] = spec->slirp_api;
        argv[10] = pid_arg;
        argv[11] = "tap0";
    }
    /* It chatters on stderr ("exitfd event"); its failures show as the ready pipe's EOF. */
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) dup2(null, 0), dup2(null, 1), dup2(null, 2);
    execv(spec->slirp, (char *const *)argv);
    char msg[16];
    int n = snprintf(msg, sizeof msg, "x%d", errno);
    if (write(ready, msg, (size_t)n) < 0) _exit(EXIT_SETUP);
    _exit(EXIT_NOT_FOUND);
}

/* Before ns_unshare: fork slirp4netns, still in the host's namespaces. */
void net_start(struct spec *spec)
{
    if (!spec->network_private || spec->netns) return;
    int go[2], ready[2], exit_pipe[2];
    if (pipe2(go, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0 || pipe2(exit_pipe, O_CLOEXEC) < 0)
        die("pipe", "network");
    pid_t target = getpid();
    pid_t pid = fork();
    if (pid < 0) die("fork", spec->slirp);
    if (pid == 0) {
        close(go[1]);
        close(ready[0]);
        close(exit_pipe[1]);
        run_slirp(spec, go[0], ready[1], exit_pipe[0], target);
    }
    close(go[0]);
    close(ready[1]);
    close(exit_pipe[0]);
    spec->slirp_pid = pid;
    spec->net_go = go[1];
    spec->net_ready = ready[0];
    spec->net_exit = exit_pipe[1];
}

/* After ns_unshare: the helper is in its new network namespace; let slirp4netns attach. */
void net_attach(struct spec *spec)
{
    if (!spec->network_private || spec->netns) return;
    if (write(spec->net_go, "g", 1) != 1) die("start", spec->slirp);
    close(spec->net_go);
}

/* Docker's sysctls for a container's own network namespace: unprivileged ICMP (ping) and
 * low ports for every user. Written while /proc/sys is still writable. */
void net_sysctls(const struct spec *spec)
{
    if (!spec->network_private && !spec->network_none) return;
    char groups[32];
    unsigned long top = highest_mapped_gid(); /* the kernel takes only mapped gids */
    snprintf(groups, sizeof groups, "0 %lu", top > 2147483647UL ? 2147483647UL : top);
    const char *const sysctls[][2] = {{"/proc/sys/net/ipv4/ping_group_range", groups},
                                      {"/proc/sys/net/ipv4/ip_unprivileged_port_start", "0"}};
    for (size_t i = 0; i < sizeof sysctls / sizeof sysctls[0]; i++) {
        int fd = open(sysctls[i][0], O_WRONLY | O_CLOEXEC);
        if (fd < 0) die("open", sysctls[i][0]);
        size_t len = strlen(sysctls[i][1]);
        if (write(fd, sysctls[i][1], len) != (ssize_t)len) die("write", sysctls[i][0]);
        close(fd);
    }
}

static int net_ready_seen;

/* In the container's pid 1, just before exec (before pivot_root with -p): wait until tap0
 * is configured. */
void net_wait_ready(const struct spec *spec)
{
    if (!spec->network_private || spec->netns || net_ready_seen) return;
    net_ready_seen = 1;
    char buf[16] = {0};
    struct pollfd p = {spec->net_ready, POLLIN, 0};
    int r;
    while ((r = poll(&p, 1, READY_TIMEOUT_MS)) < 0 && errno == EINTR) {
    }
    if (r == 0) fail(EXIT_SETUP, "network", ETIMEDOUT, spec->slirp);
    ssize_t n = read(spec->net_ready, buf, sizeof buf - 1);
    if (n == 1 && buf[0] == '1') {
        close(spec->net_ready);
        return;
    }
    if (n > 1 && buf[0] == 'x') fail(EXIT_SETUP, "network", atoi(buf + 1), spec->slirp);
    fail(EXIT_SETUP, "network", ECHILD, spec->slirp); /* it exited: its own message is on stderr */
}

/* One request to slirp4netns's API socket; 0 when it answered with "return". */
static int api_call(const char *sock_path, const char *request, char *reply, size_t reply_len)
{
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(sock_path) >= sizeof addr.sun_path) return close(s), errno = ENAMETOOLONG, -1;
    strcpy(addr.sun_path, sock_path);
    if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) return close(s), -1;
    size_t len = strlen(request);
    if (write(s, request, len) != (ssize_t)len) return close(s), -1;
    shutdown(s, SHUT_WR);
    size_t n = 0;
    ssize_t r;
    while (n < reply_len - 1 && (r = read(s, reply + n, reply_len - 1 - n)) > 0) n += (size_t)r;
    reply[n] = '\0';
    close(s);
    return strstr(reply, "\"return\"") ? 0 : 1;
}

/* run -p, in pid 1 while the host's paths are still there: each forward through the API
 * socket; a host port that cannot be bound fails the start (publish EADDRINUSE IP:PORT). */
void net_publish(const struct spec *spec)
{
    if (spec->n_publish == 0) return;
    net_wait_ready(spec);
    for (int i = 0; i < spec->n_publish; i++) {
        char proto[8], host_ip[64];
        unsigned host_port, ctr_port;
        if (sscanf(spec->publish[i], "%7[a-z]\t%63[^\t]\t%u\t%u", proto, host_ip, &host_port, &ctr_port) != 4)
            fail(EXIT_SETUP, "spec", EINVAL, "publish");
        if (strchr(host_ip, ':')) continue; /* IPv6: port-proxy.c's */
        char req[512], reply[1024], where[96];
        snprintf(req, sizeof req,
                 "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"%s\", \"host_addr\": \"%s\", "
                 "\"host_port\": %u, \"guest_port\": %u}}",
                 proto, host_ip, host_port, ctr_port);
        snprintf(where, sizeof where, "%s:%u", host_ip, host_port);
        int r = api_call(spec->slirp_api, req, reply, sizeof reply);
        if (r < 0) fail(EXIT_SETUP, "publish", errno, where);
        if (r > 0) fail(EXIT_SETUP, "publish", EADDRINUSE, where); /* libslirp's one failure: the bind */
    }
}

/* After the container ended: slirp4netns sees its exit fd close and exits by itself. It is
 * not waited for: closing its tap device takes the kernel long (the namespace's devices
 * are unregistered: bench/RESULTS.md), which would be every RUN's cost; init reaps it once we are gone. */
void net_stop(struct spec *spec)
{
    if (!spec->network_private || spec->netns || spec->slirp_pid <= 0) return;
    close(spec->net_exit);
    close(spec->net_ready);
    waitpid(spec->slirp_pid, NULL, WNOHANG);
    spec->slirp_pid = 0;
}

/* `tsbuild-helper --netns SLIRP`: make a private network namespace, print "ready" once its
 * NAT is configured, and hold it until stdin closes (the build ended, or tsbuild died). */
int net_hold_main(const char *slirp)
{
    static struct spec spec; /* only the network fields are used */
    spec.network_private = 1;
    spec.slirp = slirp;
    if (slirp[0] != '/') fail(EXIT_SETUP, "netns", EINVAL, slirp);
    net_start(&spec);
    if (unshare(CLONE_NEWNET) < 0) die("unshare", "network namespace");
    ns_loopback_up();
    net_attach(&spec);
    net_sysctls(&spec);
    net_wait_ready(&spec);
    if (write(1, "ready\n", 6) != 6) die("write", "stdout");
    char buf[64];
    for (;;) { /* until EOF or an error other than EINTR (a stale errno must not keep us here) */
        ssize_t n = read(0, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno != EINTR)) break;
    }
    net_stop(&spec);
    return 0;
}
