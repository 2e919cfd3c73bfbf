/*
 * Docker's default seccomp profile as a table: moby/profiles seccomp/default.json (vendored
 * in moby/moby as vendor/github.com/moby/profiles/seccomp/default.json), read 2026-08.
 * Default action: EPERM. The rules below, in the profile's order; seccomp.c turns them
 * into BPF for the capabilities the container holds. Entries for architectures we never
 * build for (ppc64le, s390, riscv64) are left out; minKernel 4.8 (ptrace) always holds.
 */
#include "seccomp.h"

#define ALL 0
#define X86S (ABI_X86_64 | ABI_X32 | ABI_I386)
#define ARMS (ABI_AARCH64 | ABI_ARM)

/* The profile's first, unconditional group: allowed whatever the capabilities. */
static const char *const ALLOWED[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget", "capset",
    "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
    "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
    "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
    "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
    "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
    "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
    "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
    "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
    "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake",
    "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid",
    "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername",
    "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32",
    "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname",
    "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr",
    "getxattrat", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
    "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
    "ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link",
    "linkat", "listen", "listmount", "listxattr", "listxattrat", "llistxattr", "_llseek",
    "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack",
    "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat",
    "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify",
    "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
    "mq_unlink", "mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
    "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open",
    "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc",
    "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv",
    "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev",
    "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
    "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "removexattrat", "rename",
    "renameat", "renameat2", "restart_syscall", "riscv_hwprobe", "rmdir", "rseq", "rt_sigaction",
    "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity",
    "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
    "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
    "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
    "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64",
    "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid",
    "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid",
    "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
    "setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area", "set_tid_address",
    "setuid", "setuid32", "setxattr", "setxattrat", "shmat", "shmctl", "shmdt", "shmget", "shutdown",
    "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair",
    "splice", "stat", "stat64", "statfs", "statfs64", "statmount", "statx", "symlink", "symlinkat",
    "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
    "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
    "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
    "timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname",
    "unlink", "unlinkat", "uretprobe", "utime", "utimensat", "utimensat_time64", "utimes", "vfork",
    "vmsplice", "wait4", "waitid", "waitpid", "write", "writev",
};

#define RULE(n, ...) {.name = n, __VA_ARGS__}
#define CAP(c) (1ULL << (c))
#define ARG(i, o, v) .arg = {.index = i, .op = o, .value = v}

/* Everything after the first group: arguments, architectures and capabilities. */
static const struct sc_rule RULES[] = {
    RULE("process_vm_readv"), RULE("process_vm_writev"), RULE("ptrace"), /* minKernel 4.8 */
    /* socket: every family but AF_ALG (38) and AF_VSOCK (40) */
    RULE("socket", ARG(0, SC_LT, 38)), RULE("socket", ARG(0, SC_EQ, 39)), RULE("socket", ARG(0, SC_GT, 40)),
    /* personality: PER_LINUX, UNAME26, PER_LINUX32, PER_LINUX32|UNAME26 and the query */
    RULE("personality", ARG(0, SC_EQ, 0x0)), RULE("personality", ARG(0, SC_EQ, 0x8)),
    RULE("personality", ARG(0, SC_EQ, 0x20000)), RULE("personality", ARG(0, SC_EQ, 0x20008)),
    RULE("personality", ARG(0, SC_EQ, 0xffffffff)),
    RULE("arm_fadvise64_64", .arches = ARMS), RULE("arm_sync_file_range", .arches = ARMS),
    RULE("sync_file_range2", .arches = ARMS), RULE("breakpoint", .arches = ARMS),
    RULE("cacheflush", .arches = ARMS), RULE("set_tls", .arches = ARMS),
    RULE("arch_prctl", .arches = ABI_X86_64 | ABI_X32),
    RULE("modify_ldt", .arches = X86S),
    RULE("open_by_handle_at", .if_caps = CAP(CAP_DAC_READ_SEARCH_)),
    RULE("bpf", .if_caps = CAP(CAP_SYS_ADMIN_)), RULE("clone", .if_caps = CAP(CAP_SYS_ADMIN_)),
    RULE("clone3", .if_caps = CAP(CAP_SYS_ADMIN_)), RULE("fanotify_init", .if_caps = CAP(CAP_SYS_ADMIN_)),
    RULE("fsconfig", .if_caps = CAP(CAP_SYS_ADMIN_)), RULE("fsmount", .if_caps = CAP(CAP_SYS_ADMIN_)),
    RULE("fsopen", .if_caps = CAP(CAP_SYS_ADMIN_)), RULE("fspick", .if_caps = CAP(CAP_SYS_ADMIN_)),
    RULE("lookup_dcookie", .if_caps = CAP(CAP_SYS_ADMIN_)), RULE("lsm_get_self_attr", .if_caps = CAP(CAP_SYS_ADMIN_)),
    RULE("lsm_list_modules", .if_caps = CAP(CAP_SYS_ADMIN_)), RULE("lsm_set_self_attr", .if_caps = CAP(CAP_SYS_ADMIN_)),
    RULE("mount", .if_caps = CAP(CAP_SYS_ADMIN_)), RULE("mount_setattr", .if_caps = CAP(CAP_SYS_ADMIN_)),
    RULE("move_mount", .if_caps = CAP(CAP_SYS_ADMIN_)), RULE("open_tree", .if_caps = CAP(CAP_SYS_ADMIN_)),
    RULE("perf_event_open", .if_caps = CAP(CAP_SYS_ADMIN_)), RULE("quotactl", .if_caps = CAP(CAP_SYS_ADMIN_)),
    RULE("quotactl_fd", .if_caps = CAP(CAP_SYS_ADMIN_)), RULE("setdomainname", .if_caps = CAP(CAP_SYS_ADMIN_)),
    RULE("sethostname", .if_caps = CAP(CAP_SYS_ADMIN_)), RULE("setns", .if_caps = CAP(CAP_SYS_ADMIN_)),
    RULE("syslog", .if_caps = CAP(CAP_SYS_ADMIN_)), RULE("umount", .if_caps = CAP(CAP_SYS_ADMIN_)),
    RULE("umount2", .if_caps = CAP(CAP_SYS_ADMIN_)), RULE("unshare", .if_caps = CAP(CAP_SYS_ADMIN_)),
    /* clone without CAP_SYS_ADMIN: no CLONE_NEW* flag (NS|UTS|IPC|USER|PID|NET|CGROUP) */
    RULE("clone", .unless_caps = CAP(CAP_SYS_ADMIN_), ARG(0, SC_MASKED_EQ, 0), .arg.mask = 0x7E020000),
    /* clone3 hides its flags in memory: ENOSYS, so libc falls back to clone */
    RULE("clone3", .unless_caps = CAP(CAP_SYS_ADMIN_), .action = SC_ERRNO, .errno_ret = 38),
    RULE("reboot", .if_caps = CAP(CAP_SYS_BOOT_)),
    RULE("chroot", .if_caps = CAP(CAP_SYS_CHROOT_)),
    RULE("delete_module", .if_caps = CAP(CAP_SYS_MODULE_)), RULE("init_module", .if_caps = CAP(CAP_SYS_MODULE_)),
    RULE("finit_module", .if_caps = CAP(CAP_SYS_MODULE_)),
    RULE("acct", .if_caps = CAP(CAP_SYS_PACCT_)),
    RULE("kcmp", .if_caps = CAP(CAP_SYS_PTRACE_)), RULE("pidfd_getfd", .if_caps = CAP(CAP_SYS_PTRACE_)),
    RULE("process_madvise", .if_caps = CAP(CAP_SYS_PTRACE_)), RULE("process_vm_readv", .if_caps = CAP(CAP_SYS_PTRACE_)),
    RULE("process_vm_writev", .if_caps = CAP(CAP_SYS_PTRACE_)), RULE("ptrace", .if_caps = CAP(CAP_SYS_PTRACE_)),
    RULE("iopl", .if_caps = CAP(CAP_SYS_RAWIO_)), RULE("ioperm", .if_caps = CAP(CAP_SYS_RAWIO_)),
    RULE("settimeofday", .if_caps = CAP(CAP_SYS_TIME_)), RULE("stime", .if_caps = CAP(CAP_SYS_TIME_)),
    RULE("clock_settime", .if_caps = CAP(CAP_SYS_TIME_)), RULE("clock_settime64", .if_caps = CAP(CAP_SYS_TIME_)),
    RULE("vhangup", .if_caps = CAP(CAP_SYS_TTY_CONFIG_)),
    RULE("get_mempolicy", .if_caps = CAP(CAP_SYS_NICE_)), RULE("mbind", .if_caps = CAP(CAP_SYS_NICE_)),
    RULE("set_mempolicy", .if_caps = CAP(CAP_SYS_NICE_)), RULE("set_mempolicy_home_node", .if_caps = CAP(CAP_SYS_NICE_)),
    RULE("syslog", .if_caps = CAP(CAP_SYSLOG_)),
    RULE("bpf", .if_caps = CAP(CAP_BPF_)),
    RULE("perf_event_open", .if_caps = CAP(CAP_PERFMON_)),
};

const struct sc_policy SECCOMP_DOCKER_DEFAULT = {
    .allowed = ALLOWED,
    .n_allowed = sizeof ALLOWED / sizeof ALLOWED[0],
    .rules = RULES,
    .n_rules = sizeof RULES / sizeof RULES[0],
    .default_errno = 1, /* EPERM: the profile's defaultErrnoRet */
};
