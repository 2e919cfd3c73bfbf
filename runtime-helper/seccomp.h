/*
 * The seccomp policy's shape (seccomp-policy.c fills it in from Docker's default profile)
 * and the syscall numbers it is resolved against (syscalls.gen.h, generated at build time
 * from the kernel headers by scripts/build-native.mjs).
 */
#ifndef TSBUILD_SECCOMP_H
#define TSBUILD_SECCOMP_H

#include <stdint.h>

/* The ABIs a filter distinguishes (the profile's archMap for x86_64 and aarch64). */
enum sc_abi { ABI_X86_64 = 1, ABI_I386 = 2, ABI_X32 = 4, ABI_AARCH64 = 8, ABI_ARM = 16 };

/* Capability numbers the profile names (linux/capability.h; our own names, no kernel header). */
enum {
    CAP_DAC_READ_SEARCH_ = 2, CAP_SYS_MODULE_ = 16, CAP_SYS_RAWIO_ = 17, CAP_SYS_CHROOT_ = 18,
    CAP_SYS_PTRACE_ = 19, CAP_SYS_PACCT_ = 20, CAP_SYS_ADMIN_ = 21, CAP_SYS_BOOT_ = 22,
    CAP_SYS_NICE_ = 23, CAP_SYS_TIME_ = 25, CAP_SYS_TTY_CONFIG_ = 26, CAP_SYSLOG_ = 34,
    CAP_PERFMON_ = 38, CAP_BPF_ = 39,
};

enum sc_op { SC_ANY = 0, SC_LT, SC_EQ, SC_GT, SC_MASKED_EQ }; /* libseccomp's SCMP_CMP_* */
enum sc_action { SC_ALLOW = 0, SC_ERRNO };

struct sc_arg {
    int index;      /* which syscall argument */
    enum sc_op op;  /* SC_ANY: the rule has no argument condition */
    uint64_t value;
    uint64_t mask;  /* SC_MASKED_EQ: (arg & mask) == value */
};

struct sc_rule {
    const char *name;
    uint64_t if_caps;    /* 0, or the rule holds only with one of these (profile "includes") */
    uint64_t unless_caps; /* 0, or the rule holds only with none of these (profile "excludes") */
    unsigned arches;     /* 0: every ABI; else a mask of enum sc_abi */
    enum sc_action action;
    int errno_ret;
    struct sc_arg arg;
};

struct sc_policy {
    const char *const *allowed; /* allowed whatever the capabilities and arguments */
    int n_allowed;
    const struct sc_rule *rules;
    int n_rules;
    int default_errno;
};

struct sc_nr {
    const char *name;
    uint32_t nr;
};

extern const struct sc_policy SECCOMP_DOCKER_DEFAULT;

#endif
