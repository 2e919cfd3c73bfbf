/*
 * The device filter on a cgroup v2 host: v2 has no devices controller, so the allow-list
 * (device_rule= keys, the same rules the v1 controller takes) becomes a small eBPF program
 * of type CGROUP_DEVICE attached to the container's cgroup before its pid 1 joins it, as
 * runc does (libcontainer/cgroups/devices/devicefilter.go). Deny unless a rule allows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

/* linux/bpf.h, fixed by the kernel ABI */
struct bpf_insn_ { uint8_t code; uint8_t regs; int16_t off; int32_t imm; };
#define BPF_PROG_LOAD_ 5
#define BPF_PROG_ATTACH_ 8
#define BPF_PROG_TYPE_CGROUP_DEVICE_ 15
#define BPF_CGROUP_DEVICE_ 6
#define LDX_W 0x61   /* BPF_LDX | BPF_MEM | BPF_W */
#define MOV64_X 0xbf /* BPF_ALU64 | BPF_MOV | BPF_X */
#define MOV64_K 0xb7
#define AND32_K 0x54
#define RSH32_K 0x74
#define JNE_K 0x55   /* BPF_JMP | BPF_JNE | BPF_K */
#define EXIT 0x95
/* struct bpf_cgroup_dev_ctx: access_type (type | access << 16), major, minor */
#define DEV_BLOCK 1
#define DEV_CHAR 2
#define ACC_MKNOD 1
#define ACC_READ 2
#define ACC_WRITE 4

#define MAX_INSNS 4096

static struct bpf_insn_ insns[MAX_INSNS];
static int n_insns;

static int op(uint8_t code, int dst, int src, int16_t off, int32_t imm)
{
    if (n_insns >= MAX_INSNS) fail(EXIT_SETUP, "device filter", E2BIG, "rules");
    insns[n_insns] = (struct bpf_insn_){code, (uint8_t)(dst | src << 4), off, imm};
    return n_insns++;
}

struct rule {
    int type;           /* DEV_BLOCK, DEV_CHAR, or 0 for any ('a') */
    long major, minor;  /* -1: any ('*') */
    int access;
};

/* "c 1:3 rwm", "b *:* m", "a" */
static struct rule parse_rule(const char *text)
{
    struct rule r = {0, -1, -1, ACC_MKNOD | ACC_READ | ACC_WRITE};
    char type, majs[16], mins[16], acc[8];
    if (!strcmp(text, "a")) return r;
    if (sscanf(text, "%c %15[0-9*]:%15[0-9*] %7s", &type, majs, mins, acc) != 4 || (type != 'c' && type != 'b'))
        fail(EXIT_SETUP, "spec", EINVAL, "device_rule");
    r.type = type == 'b' ? DEV_BLOCK : DEV_CHAR;
    r.major = strcmp(majs, "*") ? atol(majs) : -1;
    r.minor = strcmp(mins, "*") ? atol(mins) : -1;
    r.access = 0;
    for (const char *p = acc; *p; p++) r.access |= *p == 'r' ? ACC_READ : *p == 'w' ? ACC_WRITE : *p == 'm' ? ACC_MKNOD : 0;
    return r;
}

/* r2 = type, r3 = access, r4 = major, r5 = minor; each rule falls through to the next on a miss. */
static void build(const struct spec *spec)
{
    n_insns = 0;
    op(LDX_W, 2, 1, 0, 0);
    op(MOV64_X, 3, 2, 0, 0);
    op(AND32_K, 2, 0, 0, 0xffff);
    op(RSH32_K, 3, 0, 0, 16);
    op(LDX_W, 4, 1, 4, 0);
    op(LDX_W, 5, 1, 8, 0);
    for (int i = 0; i < spec->n_device_rules; i++) {
        struct rule r = parse_rule(spec->device_rules[i]);
        int jumps[4], n = 0;
        if (r.type) jumps[n++] = op(JNE_K, 2, 0, 0, r.type);
        /* the access asked for must be within the rule's: (access & ~allowed) == 0 */
        op(MOV64_X, 6, 3, 0, 0);
        op(AND32_K, 6, 0, 0, ~r.access & 7);
        jumps[n++] = op(JNE_K, 6, 0, 0, 0);
        if (r.major >= 0) jumps[n++] = op(JNE_K, 4, 0, 0, (int32_t)r.major);
        if (r.minor >= 0) jumps[n++] = op(JNE_K, 5, 0, 0, (int32_t)r.minor);
        op(MOV64_K, 0, 0, 0, 1);
        op(EXIT, 0, 0, 0, 0);
        for (int j = 0; j < n; j++) insns[jumps[j]].off = (int16_t)(n_insns - jumps[j] - 1);
    }
    op(MOV64_K, 0, 0, 0, 0);
    op(EXIT, 0, 0, 0, 0);
}

/* Load the program and attach it to the cgroup dir (before pid 1 joins it). */
void device_filter_attach(const struct spec *spec)
{
    if (!spec->device_filter_dir) return;
    build(spec);
    /* union bpf_attr's BPF_PROG_LOAD part; the rest must be zero */
    struct { uint32_t prog_type, insn_cnt; uint64_t insns, license; uint8_t rest[112]; } load;
    static const char license[] = "Apache-2.0";
    memset(&load, 0, sizeof load);
    load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE_;
    load.insn_cnt = (uint32_t)n_insns;
    load.insns = (uint64_t)(uintptr_t)insns;
    load.license = (uint64_t)(uintptr_t)license;
    int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD_, &load, sizeof load);
    if (prog < 0) die("bpf load device filter", spec->device_filter_dir);
    int dir = open(spec->device_filter_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) die("open", spec->device_filter_dir);
    uint32_t attach[8] = {(uint32_t)dir, (uint32_t)prog, BPF_CGROUP_DEVICE_, 0}; /* target_fd, attach_bpf_fd, type, flags */
    if (syscall(SYS_bpf, BPF_PROG_ATTACH_, attach, sizeof attach) < 0) die("bpf attach device filter", spec->device_filter_dir);
    close(dir);
    close(prog); /* the attachment keeps the program; it goes with the cgroup */
}
