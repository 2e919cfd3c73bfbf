/*
 * tsbuild-helper main: the whole story in one screen. See helper.h for the protocol.
 * (`--mount` and `--umount` are the executor's mounts outside containers: mount-cmd.c, and
 * `--mount-server` makes them for many requests: mount-server.c;
 * `--link PATH` names save -o's unnamed output file: link-cmd.c;
 * `--xattrs-get`, `--xattrs-set` and `--mknod` are the file metadata Node cannot reach: fsattr-cmd.c;
 * `--tree DIR OUT` is the listing a RUN step's helper writes when its command ended: tree.c;
 * `--netns SLIRP` holds a build's private network namespace: network.c;
 * `--enter` runs a command in a running container, tsbuild exec: enter.c;
 * `--userns PROGRAM` runs tsbuild itself as root of a user namespace (rootless): userns-cmd.c.)
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

static struct spec spec; /* big arrays, kept off the stack; report.c keeps only where failures go */

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--mount") == 0) return mount_main(argc - 2, argv + 2);   /* mount-cmd.c */
    if (argc >= 2 && strcmp(argv[1], "--umount") == 0) return umount_main(argc - 2, argv + 2);
    if (argc == 2 && strcmp(argv[1], "--mount-server") == 0) return mount_server_main();       /* mount-server.c */
    if (argc == 3 && strcmp(argv[1], "--netns") == 0) return net_hold_main(argv[2]);          /* network.c */
    if (argc >= 2 && strcmp(argv[1], "--link") == 0) return link_main(argc - 2, argv + 2);       /* link-cmd.c */
    if (argc >= 2 && strcmp(argv[1], "--syncfs") == 0) return syncfs_main(argc - 2, argv + 2);   /* syncfs-cmd.c */
    if (argc == 2 && strcmp(argv[1], "--seccomp-dump") == 0) return seccomp_dump_main(); /* seccomp.c */
    if (argc >= 2 && strcmp(argv[1], "--xattrs-get") == 0) return xattrs_get_main(argc - 2, argv + 2); /* fsattr-cmd.c */
    if (argc == 2 && strcmp(argv[1], "--xattrs-set") == 0) return xattrs_set_main();
    if (argc == 2 && strcmp(argv[1], "--mknod") == 0) return mknod_main();
    if (argc == 4 && strcmp(argv[1], "--tree") == 0) return tree_dump(argv[2], argv[3]) == 0 ? 0 : 1; /* tree.c, for tests */
    if (argc == 2 && strcmp(argv[1], "--enter") == 0) return enter_main();
    if (argc >= 3 && strcmp(argv[1], "--userns") == 0) return userns_main(argc - 2, argv + 2);
    spec_read(&spec, SPEC_FD);               /* malformed spec: exit 125 */
    if (spec.log_file) log_start(&spec);     /* run -d: fds 1 and 2 become the log relay's pipes */
    /* A RUN step dies with tsbuild: SIGKILL when the parent exits, and pid 1 (PDEATHSIG from
     * us) takes the whole pid namespace with it. Checked after prctl: a parent that died
     * before it left us orphaned already, with nobody to send the signal. */
    if (spec.parent > 0 && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die("prctl PDEATHSIG", NULL);
    if (spec.parent > 0 && getppid() != spec.parent) fail(EXIT_SETUP, "parent", ESRCH, NULL);
    /* A foreground `run` ends with its CLI too, but through us (SIGHUP, see report_forward),
     * so the end is recorded and --rm, cgroups and the network are cleaned up as always. */
    if (spec.owner > 0 && prctl(PR_SET_PDEATHSIG, SIGHUP) < 0) die("prctl PDEATHSIG", NULL);
    if (spec.owner > 0 && getppid() != spec.owner) fail(EXIT_SETUP, "parent", ESRCH, NULL);
    report_set_owner(spec.owner);
    int sigfd = report_signals();
    int chan[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan) < 0) die("socketpair", NULL);

    device_filter_attach(&spec);             /* cgroup v2: before pid 1 joins the cgroup */
    net_start(&spec);                        /* slirp4netns, forked while in the host's namespaces */
    proxy_start(&spec);                      /* run -p on IPv6: listeners bound on the host */
    ns_unshare(&spec);                       /* pid, ipc, uts (+ net unless network=host) */
    net_attach(&spec);
    proxy_attach();
    pid_t child = ns_fork_pid1();            /* the child is pid 1, in a new mount ns */
    if (child == 0) {
        close(chan[0]);
        report_set_channel(chan[1]);         /* failures from here go to the parent */
        cgroup_join(&spec);                  /* limits: before any other process exists */
        rootfs_mount(&spec);                 /* tmpfs, stub, overlay (or bind of a dir) */
        net_publish(&spec);                  /* run -p: while the API socket is reachable */
        rootfs_pivot(&spec);
        rootfs_finish(&spec);                /* /proc, /dev, /sys, binds, masks, cwd */
        if (spec.tty) tty_open_in_container(chan[1], spec.uid);
        net_wait_ready(&spec);               /* the private network is configured */
        process_restrict(&spec);             /* no_new_privs, capabilities, user, */
        process_chdir(&spec);
        process_exec(&spec);                 /* seccomp; if exec fails: exit 126 or 127 */
    }
    close(chan[1]);
    int master = -1;
    char reason[4200];
    int code = tty_receive_master(chan[0], &master, reason, sizeof reason);
    close(chan[0]);
    if (code != 0) {                         /* setup failed in the child: no command ran */
        waitpid(child, NULL, 0);
        net_stop(&spec);
        cgroup_remove(&spec);
        remove_all(&spec);
        report_status(STATUS_FD, reason);
        return code;
    }
    int status = report_wait(child, sigfd, master, &spec); /* "exited N" / "signaled N" */
    net_stop(&spec);
    cgroup_remove(&spec);
    if (spec.tree_dir) tree_dump(spec.tree_dir, spec.tree_out); /* what the command changed */
    return status;
}
