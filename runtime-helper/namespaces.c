/*
 * The namespaces: new pid, ipc and uts (and net unless network=host) for the helper itself,
 * so its one child is pid 1 of a fresh pid namespace; a new mount namespace for that child
 * only, so the helper keeps the host's view of the filesystem (it removes run --rm dirs).
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helper.h"

/* A new network namespace has lo, down: bring it up so 127.0.0.1 works. */
void ns_loopback_up(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) die("socket", "lo");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) die("ioctl SIOCGIFFLAGS", "lo");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) die("ioctl SIOCSIFFLAGS", "lo");
    close(s);
}

void ns_unshare(const struct spec *spec)
{
    int flags = CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
    if (spec->netns) { /* a build's shared private network (network.c) */
        int fd = open(spec->netns, O_RDONLY | O_CLOEXEC);
        if (fd < 0) die("open", spec->netns);
        if (setns(fd, CLONE_NEWNET) < 0) die("setns", spec->netns);
        close(fd);
    }
    int own_net = spec->network_none || (spec->network_private && !spec->netns);
    if (own_net) flags |= CLONE_NEWNET;
    if (unshare(flags) < 0) die("unshare", NULL);
    if (own_net) ns_loopback_up();
    if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
        die("sethostname", spec->hostname);
}

/* Fork the container's pid 1. The child dies with the helper, which supervises it. */
pid_t ns_fork_pid1(void)
{
    pid_t child = fork();
    if (child < 0) die("fork", NULL);
    if (child > 0) return child;
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die("prctl PDEATHSIG", NULL);
    if (unshare(CLONE_NEWNS) < 0) die("unshare", "mount namespace");
    return 0;
}
