/*
 * `--enter`: `tsbuild exec` — run one more command in a running container. The spec on
 * fd 3 names the container's pid 1 (enter=PID), its cgroup dirs (cgroup=DIR) and the process
 * (arg, env, cwd, uid, gid, group, tty); we join the cgroups, then its ipc, uts, net, pid and mount namespaces, and
 * fork the command there with the same restrictions as pid 1 had (process.c), a pty of
 * the container's own devpts with tty=1 (tty.c). Exit status and status line as main's.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

static struct spec spec;

static void join_namespaces(pid_t pid)
{
    /* All opened first: after the mount namespace changes, /proc is the container's. */
    static const struct { const char *name; int type; } kinds[] = {
        {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS}};
    int fds[5];
    char path[64];
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, kinds[i].name);
        fds[i] = open(path, O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0) fail(EXIT_SETUP, "enter", errno, path);
    }
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, kinds[i].name);
        if (setns(fds[i], kinds[i].type) < 0) die("setns", path);
        close(fds[i]);
    }
    if (chdir("/") < 0) die("chdir", "/");
}

int enter_main(void)
{
    spec_read(&spec, SPEC_FD);
    int sigfd = report_signals();
    int chan[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan) < 0) die("socketpair", NULL);

    cgroup_join(&spec); /* the container's limits hold for this process too */
    join_namespaces(spec.enter);
    pid_t child = fork(); /* the first process of ours inside the container's pid namespace */
    if (child < 0) die("fork", NULL);
    if (child == 0) {
        close(chan[0]);
        report_set_channel(chan[1]);
        if (spec.tty) tty_open_in_container(chan[1], spec.uid);
        process_restrict(&spec);
        process_chdir(&spec);
        process_exec(&spec);
    }
    close(chan[1]);
    int master = -1;
    char reason[4200];
    int code = tty_receive_master(chan[0], &master, reason, sizeof reason);
    close(chan[0]);
    if (code != 0) {
        waitpid(child, NULL, 0);
        report_status(STATUS_FD, reason);
        return code;
    }
    return report_wait(child, sigfd, master, &spec);
}
