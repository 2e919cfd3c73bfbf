/*
 * run -p on IPv6 host addresses ([::1]:8080, [::]:8080, and [::] beside 0.0.0.0 when no
 * address is given, as Docker publishes): slirp4netns's API binds IPv4 host addresses only
 * (its add_hostfwd takes host_addr through inet_pton(AF_INET)), so these go through a proxy
 * of ours, as Docker's docker-proxy does for them.
 *
 * The listening sockets are made by the helper while it is still in the host's network
 * namespace (a bind failure fails the start like any other); the proxy is forked then too,
 * so it is not in the container's pid namespace, and once the helper has its new network
 * namespace the proxy joins it (setns): a socket belongs to the namespace it was made in,
 * so its listeners stay on the host while every connection it opens is the container's,
 * to the container's own address. It dies with the helper (PDEATHSIG), each connection's
 * relay with it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helper.h"

#define GUEST_ADDR "10.0.2.100" /* slirp4netns --configure's address for tap0 */

static struct {
    int fd;
    unsigned port; /* the container's */
} listeners[MAX_PUBLISH];
static int n_listeners;
static int go_fd = -1;

/* One forward: 0 done, -1 skipped (optional, and this host has no IPv6). */
static int listen_on(const char *ip, unsigned host_port, unsigned ctr_port, int optional)
{
    char where[96];
    snprintf(where, sizeof where, "[%s]:%u", ip, host_port);
    struct sockaddr_in6 addr = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)host_port)};
    if (inet_pton(AF_INET6, ip, &addr.sin6_addr) != 1) fail(EXIT_SETUP, "publish", EINVAL, where);
    int s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0 && optional && errno == EAFNOSUPPORT) return -1;
    if (s < 0) fail(EXIT_SETUP, "publish", errno, where);
    int one = 1;
    /* [::] beside slirp4netns's 0.0.0.0 on the same port: IPv6 only */
    setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(s, 128) < 0) {
        int err = errno;
        close(s);
        if (optional && err == EADDRNOTAVAIL) return -1;
        fail(EXIT_SETUP, "publish", err, where);
    }
    listeners[n_listeners].fd = s;
    listeners[n_listeners++].port = ctr_port;
    return 0;
}

/* Copy both ways until both sides are done; a side's EOF is passed on as a shutdown. */
static _Noreturn void relay(int a, int b)
{
    char buf[65536];
    int open_from[2] = {1, 1}; /* a→b, b→a */
    while (open_from[0] || open_from[1]) {
        struct pollfd p[2] = {{open_from[0] ? a : -1, POLLIN, 0}, {open_from[1] ? b : -1, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            int from = i == 0 ? a : b, to = i == 0 ? b : a;
            ssize_t n = read(from, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                open_from[i] = 0;
                shutdown(to, SHUT_WR);
                continue;
            }
            for (ssize_t off = 0; off < n;) {
                ssize_t w = write(to, buf + off, (size_t)(n - off));
                if (w < 0 && errno == EINTR) continue;
                if (w <= 0) _exit(0); /* the other side is gone */
                off += w;
            }
        }
    }
    _exit(0);
}

static void serve(int listener, unsigned port)
{
    int client = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (client < 0) return;
    pid_t pid = fork();
    if (pid != 0) { /* the parent, or fork failed: the client is dropped */
        close(client);
        return;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (int i = 0; i < n_listeners; i++) close(listeners[i].fd);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, GUEST_ADDR, &addr.sin_addr);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) _exit(0); /* nothing listens: the client sees a close */
    relay(client, s);
}

static _Noreturn void proxy_main(int go, pid_t helper)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    setsid();                 /* a Ctrl-C meant for the container must not end its ports */
    signal(SIGCHLD, SIG_IGN); /* each connection's relay is reaped by the kernel */
    signal(SIGPIPE, SIG_IGN);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) dup2(null, 0), dup2(null, 1), dup2(null, 2);
    for (int fd = 3; fd < 1024; fd++) {
        int keep = fd == go;
        for (int i = 0; i < n_listeners; i++) keep |= fd == listeners[i].fd;
        if (!keep) close(fd);
    }
    char byte;
    if (read(go, &byte, 1) != 1) _exit(0); /* the helper gave up */
    close(go);
    char ns[64];
    snprintf(ns, sizeof ns, "/proc/%d/ns/net", (int)helper);
    int fd = open(ns, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) _exit(1);
    close(fd);
    struct pollfd p[MAX_PUBLISH];
    for (int i = 0; i < n_listeners; i++) p[i] = (struct pollfd){listeners[i].fd, POLLIN, 0};
    for (;;) {
        if (poll(p, (nfds_t)n_listeners, -1) < 0) {
            if (errno == EINTR) continue;
            _exit(1);
        }
        for (int i = 0; i < n_listeners; i++)
            if (p[i].revents & POLLIN) serve(listeners[i].fd, listeners[i].port);
    }
}

/* Before ns_unshare: bind the IPv6 forwards and fork their proxy, still on the host. */
void proxy_start(const struct spec *spec)
{
    for (int i = 0; i < spec->n_publish; i++) {
        char proto[8], host_ip[64], flag[16] = "";
        unsigned host_port, ctr_port;
        if (sscanf(spec->publish[i], "%7[a-z]\t%63[^\t]\t%u\t%u\t%15s", proto, host_ip, &host_port, &ctr_port, flag) < 4)
            fail(EXIT_SETUP, "spec", EINVAL, "publish");
        if (!strchr(host_ip, ':')) continue; /* IPv4: slirp4netns's (net_publish) */
        if (strcmp(proto, "tcp") != 0) fail(EXIT_SETUP, "publish", EAFNOSUPPORT, host_ip);
        listen_on(host_ip, host_port, ctr_port, !strcmp(flag, "optional"));
    }
    if (n_listeners == 0) return;
    int go[2];
    if (pipe2(go, O_CLOEXEC) < 0) die("pipe", "publish");
    pid_t helper = getpid();
    pid_t pid = fork();
    if (pid < 0) die("fork", "publish");
    if (pid == 0) {
        close(go[1]);
        proxy_main(go[0], helper);
    }
    close(go[0]);
    for (int i = 0; i < n_listeners; i++) close(listeners[i].fd);
    go_fd = go[1];
}

/* After ns_unshare: the helper is in the container's network namespace; the proxy joins it. */
void proxy_attach(void)
{
    if (go_fd < 0) return;
    if (write(go_fd, "g", 1) != 1) die("start", "publish");
    close(go_fd);
    go_fd = -1;
}
