/*
 * tsbuild-helper: enter a container and run one command, then report how it ended.
 *
 * The spec arrives on fd 3 as NUL-separated key=value pairs (see spec.c for the keys);
 * one status line leaves on fd 4: "exited N", "signaled N", or a reason token
 * ("exec ENOENT python3", "chdir ENOTDIR /x", "setup mount-overlay EINVAL /r").
 * Exit codes follow the shell: the command's own code; 125 the helper failed before exec;
 * 126 not executable; 127 not found; 128+N killed by signal N.
 */
#ifndef TSBUILD_HELPER_H
#define TSBUILD_HELPER_H

#include <stdint.h>
#include <sys/types.h>

#define SPEC_FD 3
#define STATUS_FD 4

#define EXIT_SETUP 125
#define EXIT_NOT_EXECUTABLE 126
#define EXIT_NOT_FOUND 127

/* Docker's default capability set (moby oci/caps/defaults.go): CHOWN DAC_OVERRIDE FOWNER
 * FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP. */
#define DOCKER_CAPS 0xa80425fbULL
#define ALL_CAPS (~0ULL) /* every capability the bounding set still has */

#define MAX_REMOVE 8
#define MAX_TMPFS 64
#define MAX_CGROUPS 16
#define MAX_PUBLISH 64
#define MAX_ITEMS 1024 /* lower dirs, argv, env, groups, binds: each at most this many */

enum rootfs_kind { ROOTFS_OVERLAY, ROOTFS_DIR };

/* Docker's default devices, bound from the host's /dev (every other mount is nodev). */
#define N_DEFAULT_DEVICES 6

struct bind {
    const char *source; /* host path */
    const char *target; /* path inside the container */
    int readonly;
    int optional;       /* etc files: bound only when the target exists in the image */
    int device;         /* run --device: a device node, so its mount keeps dev (no nodev) */
    int source_fd;      /* O_PATH fd opened before pivot_root */
};

struct tmpfs {
    const char *target; /* path inside the container */
    unsigned long size; /* bytes; 0: the kernel's default */
};

struct spec {
    enum rootfs_kind rootfs_kind;
    const char *lower[MAX_ITEMS]; /* top-most first, as overlay wants them */
    int n_lower;
    const char *upper;            /* NULL: read-only overlay */
    const char *work;
    const char *rootfs_dir;       /* ROOTFS_DIR: the directory used as / */
    const char *mount_point;      /* an empty host dir; a private tmpfs goes here */
    const char *argv[MAX_ITEMS + 1];
    int n_argv;
    const char *env[MAX_ITEMS + 1];
    int n_env;
    const char *cwd;
    uid_t uid;
    gid_t gid;
    gid_t groups[MAX_ITEMS];
    int n_groups;
    const char *hostname;
    int network_none;
    int network_private;          /* own network namespace + slirp4netns (network.c) */
    const char *slirp;            /* the slirp4netns program, an absolute path */
    const char *netns;            /* private: join this held namespace instead (network.c) */
    pid_t slirp_pid;              /* runtime state of network.c: its process and pipes */
    int net_go, net_ready, net_exit;
    int tty;
    struct bind binds[MAX_ITEMS];
    int n_binds;
    struct tmpfs tmpfs[MAX_TMPFS];
    int n_tmpfs;
    const char *remove[MAX_REMOVE]; /* removed after the command ended (run --rm) */
    int n_remove;
    const char *status_file;      /* the status line is also written here */
    const char *cgroups[MAX_CGROUPS]; /* cgroup dirs pid 1 joins (limits already set) */
    int n_cgroups;
    const char *tree_dir;         /* after the command: dump this dir's entries ... */
    const char *tree_out;         /* ... into this file (tree.c) */
    int default_device_fd[N_DEFAULT_DEVICES]; /* O_PATH clones of them, opened before pivot_root */
    const char *device_filter_dir; /* cgroup v2: attach the device filter to this dir (device-filter.c) */
    const char *device_rules[MAX_ITEMS]; /* its allow rules, as cgroup v1 writes them: "c 1:3 rwm" */
    int n_device_rules;
    int insecure;                 /* RUN --security=insecure: every capability, no seccomp */
    int seccomp_unconfined;       /* run --security-opt seccomp=unconfined */
    int system_paths_unconfined;  /* run --security-opt systempaths=unconfined: no masks */
    int new_privs_allowed;        /* run --security-opt no-new-privileges=false */
    pid_t parent;                 /* a RUN step: die with this process (0: outlive it, run -d) */
    pid_t owner;                  /* run in the foreground: end the container when this process dies */
    int readonly_rootfs;          /* run --read-only: / is remounted read-only last */
    int caps_set;                 /* run --cap-add/--cap-drop: caps replaces Docker's set */
    uint64_t caps;
    const char *slirp_api;        /* private: slirp4netns's API socket, for publish */
    const char *publish[MAX_PUBLISH]; /* run -p: "tcp|udp HOST_IP HOST_PORT CONTAINER_PORT" */
    int n_publish;
    pid_t enter;                  /* --enter: the running container's pid 1 (enter.c) */
    const char *log_file;         /* run -d: stdout/stderr as timestamped records here (log.c) */
    unsigned long log_max;        /* ... rotated to LOG.1 past this many bytes */
    int log_tee;                  /* ... and passed on to our own stdout/stderr (a foreground run) */
};

/* enter.c: `--enter`, a command in a running container (tsbuild exec) */
int enter_main(void);

/* log.c: run -d's output relay */
void log_start(const struct spec *spec);
int log_terminal(void);

/* spec.c */
void spec_read(struct spec *spec, int fd);

/* namespaces.c */
void ns_unshare(const struct spec *spec);
void ns_loopback_up(void);
pid_t ns_fork_pid1(void);

/* network.c */
void net_start(struct spec *spec);
void net_attach(struct spec *spec);
void net_sysctls(const struct spec *spec);
void net_wait_ready(const struct spec *spec);
void net_publish(const struct spec *spec);
void net_stop(struct spec *spec);
int net_hold_main(const char *slirp);

/* port-proxy.c: run -p on IPv6 host addresses */
void proxy_start(const struct spec *spec);
void proxy_attach(void);

/* rootfs.c */
void rootfs_mount(struct spec *spec);
void rootfs_pivot(const struct spec *spec);
void rootfs_finish(struct spec *spec);

/* tty.c */
int tty_open_in_container(int sock, uid_t uid);
int tty_receive_master(int sock, int *master, char *reason, size_t reason_len);
int tty_relay(int master, int sigfd, pid_t child, int *status);

/* process.c */
void process_restrict(const struct spec *spec);
uint64_t process_caps(const struct spec *spec);
void process_exec(const struct spec *spec);
void process_chdir(const struct spec *spec);

/* seccomp.c: Docker's default profile (seccomp-policy.c) as BPF, installed before exec */
void seccomp_install(uint64_t caps);
int seccomp_dump_main(void);

/* device-filter.c: the allow-list as an eBPF program on a cgroup v2 dir */
void device_filter_attach(const struct spec *spec);

/* cgroup.c */
void cgroup_join(const struct spec *spec);
void cgroup_remove(const struct spec *spec);

/* report.c */
void report_set_channel(int sock);
void report_set_status_file(const char *path);
_Noreturn void die(const char *what, const char *path);
_Noreturn void fail(int code, const char *op, int err, const char *arg);
const char *errno_name(int err);
void report_status(int fd, const char *line);
void report_set_owner(pid_t owner);
void report_forward(pid_t child, int signo);
int report_signals(void); /* blocks the signals report_wait forwards; their signalfd */
int report_wait(pid_t child, int sigfd, int master, const struct spec *spec);
void remove_all(const struct spec *spec);
void remove_tree(const char *path);

/* tree.c: every entry below `dir` with its lstat and xattrs, into the file `out` */
int tree_dump(const char *dir, const char *out); /* 0, or -1 when OUT is not complete */

/* mount-cmd.c: `--mount FSTYPE SOURCE TARGET OPTIONS`, `--umount TARGET [lazy]` */
int mount_main(int argc, char **argv);
int umount_main(int argc, char **argv);
/* the same, the reason in err instead of on stderr: 0 or 32 */
int do_mount(int argc, char **argv, char *err, size_t errlen);
int do_umount(int argc, char **argv, char *err, size_t errlen);
/* report.c: all of buf to fd, through EINTR and short writes; -1 when fd takes no more */
int write_all(int fd, const void *buf, size_t len);
/* mount-server.c: `--mount-server`, those two for many requests on stdin */
int mount_server_main(void);
/* idmap.c: this process's user namespace */
int in_user_namespace(void);
unsigned long highest_mapped_gid(void);
/* userns-cmd.c: `--userns PROGRAM ARGS...`, rootless mode: PROGRAM as root of a user namespace */
int userns_main(int argc, char **argv);
/* link-cmd.c: `--link PATH`, the name of the unnamed file on fd 3 */
int link_main(int argc, char **argv);
/* syncfs-cmd.c: `--syncfs PATH`, syncfs(2) of the filesystem holding PATH */
int syncfs_main(int argc, char **argv);
/* fsattr-cmd.c, records of NUL-terminated fields, values in hex; exit 0, or 1 with one line
 * on stderr:
 *   `--xattrs-get [-R] PATH`  stdout: per entry with xattrs  PATH N (NAME HEX)*N
 *   `--xattrs-set`            stdin:  PATH NAME HEX         (lsetxattr)
 *   `--mknod`                 stdin:  PATH c|b|p MAJOR MINOR MODE_OCTAL  (mknod, then chmod) */
int xattrs_get_main(int argc, char **argv);
int xattrs_set_main(void);
int mknod_main(void);

#endif
