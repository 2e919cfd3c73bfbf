/*
 * The seccomp filter: Docker's default profile (seccomp-policy.c) compiled to classic BPF
 * for the capabilities the container keeps, installed right before exec (no_new_privs is
 * already set, so no privilege is needed; without it, before the capabilities are dropped). Per ABI, the syscall number is found by a binary
 * search over the sorted rules; a number above the highest one the profile names returns
 * ENOSYS instead of EPERM, so libc falls back from syscalls newer than the profile
 * (runc's libcontainer/seccomp/patchbpf does the same). Other ABIs are killed.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"
#include "seccomp.h"
#include "syscalls.gen.h"

/* linux/filter.h, linux/seccomp.h, linux/audit.h: fixed by the kernel ABI. */
struct sock_filter { uint16_t code; uint8_t jt, jf; uint32_t k; };
struct sock_fprog { unsigned short len; struct sock_filter *filter; };
#define BPF_LD_W_ABS 0x20   /* BPF_LD | BPF_W | BPF_ABS */
#define BPF_JEQ_K 0x15      /* BPF_JMP | BPF_JEQ | BPF_K */
#define BPF_JGT_K 0x25
#define BPF_JGE_K 0x35
#define BPF_JA 0x05
#define BPF_AND_K 0x54      /* BPF_ALU | BPF_AND | BPF_K */
#define BPF_RET_K 0x06
#define SECCOMP_SET_MODE_FILTER 1
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#define SECCOMP_RET_ERRNO 0x00050000U
#define SECCOMP_RET_ALLOW 0x7fff0000U
#define AUDIT_ARCH_X86_64 0xC000003EU
#define AUDIT_ARCH_I386 0x40000003U
#define AUDIT_ARCH_AARCH64 0xC00000B7U
#define X32_SYSCALL_BIT 0x40000000U
/* struct seccomp_data: nr, arch, instruction_pointer, args[6] (little-endian halves) */
#define OFF_NR 0
#define OFF_ARCH 4
#define OFF_ARG_LO(i) (16 + 8 * (i))
#define OFF_ARG_HI(i) (20 + 8 * (i))

#define MAX_INSNS 4096 /* BPF_MAXINSNS */
#define MAX_ENTRIES 1024
#define MAX_CONDS 16
#define LEAF 8

struct abi {
    enum sc_abi abi;
    const struct sc_nr *nrs;
    int n;
};

/* One syscall's decision: allow, an errno, or argument rules tried in order. */
struct entry {
    uint32_t nr;
    enum { E_ALLOW, E_ERRNO, E_COND } kind;
    int errno_ret;
    const struct sc_rule *conds[MAX_CONDS];
    int n_conds;
    int cond_at; /* where its condition block starts */
};

struct prog {
    struct sock_filter ins[MAX_INSNS];
    int n;
};

static struct prog prog;
static struct entry entries[MAX_ENTRIES];

static int emit(uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
    if (prog.n >= MAX_INSNS) fail(EXIT_SETUP, "seccomp", E2BIG, "filter");
    prog.ins[prog.n] = (struct sock_filter){code, jt, jf, k};
    return prog.n++;
}

static void patch_ja(int at, int target) { prog.ins[at].k = (uint32_t)(target - at - 1); }

static int find_nr(const struct abi *abi, const char *name, uint32_t *nr)
{
    int lo = 0, hi = abi->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(name, abi->nrs[mid].name);
        if (c == 0) {
            *nr = abi->nrs[mid].nr;
            return 1;
        }
        if (c < 0) hi = mid - 1;
        else lo = mid + 1;
    }
    return 0;
}

static int n_entries;

static struct entry *entry_for(uint32_t nr)
{
    for (int i = 0; i < n_entries; i++)
        if (entries[i].nr == nr) return &entries[i];
    if (n_entries >= MAX_ENTRIES) fail(EXIT_SETUP, "seccomp", E2BIG, "rules");
    struct entry *e = &entries[n_entries++];
    memset(e, 0, sizeof *e);
    e->nr = nr;
    e->kind = E_COND; /* no rule yet: conditions only, or the default */
    return e;
}

static int holds(const struct sc_rule *r, enum sc_abi abi, uint64_t caps)
{
    if (r->arches && !(r->arches & abi)) return 0;
    if (r->if_caps && !(caps & r->if_caps)) return 0;
    if (r->unless_caps & caps) return 0;
    return 1;
}

/* An unconditional allow wins over everything; an errno over argument rules. */
static void add_rule(struct entry *e, const struct sc_rule *r)
{
    if (e->kind == E_ALLOW) return;
    if (r->arg.op == SC_ANY) {
        e->kind = r->action == SC_ALLOW ? E_ALLOW : E_ERRNO;
        e->errno_ret = r->errno_ret;
        return;
    }
    if (e->kind == E_ERRNO) return;
    if (e->n_conds >= MAX_CONDS) fail(EXIT_SETUP, "seccomp", E2BIG, r->name);
    e->conds[e->n_conds++] = r;
}

static int by_nr(const void *a, const void *b)
{
    uint32_t x = ((const struct entry *)a)->nr, y = ((const struct entry *)b)->nr;
    return x < y ? -1 : x > y;
}

/* This ABI's entries, sorted by number; returns the highest number the profile names. */
static uint32_t collect(const struct sc_policy *p, const struct abi *abi, uint64_t caps)
{
    uint32_t nr, max = 0;
    n_entries = 0;
    for (int i = 0; i < p->n_allowed; i++) {
        if (!find_nr(abi, p->allowed[i], &nr)) continue; /* not a syscall of this ABI */
        entry_for(nr)->kind = E_ALLOW;
        if (nr > max) max = nr;
    }
    for (int i = 0; i < p->n_rules; i++) {
        const struct sc_rule *r = &p->rules[i];
        if (!find_nr(abi, r->name, &nr)) continue;
        if (nr > max) max = nr;
        if (holds(r, abi->abi, caps)) add_rule(entry_for(nr), r);
    }
    /* Entries left with no rule that holds (e.g. mount without CAP_SYS_ADMIN) take the default. */
    int kept = 0;
    for (int i = 0; i < n_entries; i++)
        if (entries[i].kind != E_COND || entries[i].n_conds > 0) entries[kept++] = entries[i];
    n_entries = kept;
    qsort(entries, (size_t)n_entries, sizeof entries[0], by_nr);
    return max;
}

/* Up to LEAF numbers compared in turn; each match jumps to its action in the trailer. */
static void emit_leaf(struct entry *e, int n, uint32_t deflt, int *fixups, int *n_fixups)
{
    /* trailer: [0] ret default, [1] ret allow, then one per errno/cond entry */
    int slot[LEAF], extra = 0;
    for (int i = 0; i < n; i++) slot[i] = e[i].kind == E_ALLOW ? 1 : 2 + extra++;
    for (int i = 0; i < n; i++) emit(BPF_JEQ_K, (uint8_t)(n - i - 1 + slot[i]), 0, e[i].nr);
    emit(BPF_RET_K, 0, 0, deflt);
    emit(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW);
    for (int i = 0; i < n; i++) {
        if (e[i].kind == E_ERRNO) emit(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | (uint32_t)e[i].errno_ret);
        else if (e[i].kind == E_COND) {
            fixups[*n_fixups] = emit(BPF_JA, 0, 0, (uint32_t)(&e[i] - entries)); /* entry index for now */
            (*n_fixups)++;
        }
    }
}

/* A binary search over e[0..n) by syscall number (A holds the number). */
static void emit_tree(struct entry *e, int n, uint32_t deflt, int *fixups, int *n_fixups)
{
    if (n <= LEAF) {
        emit_leaf(e, n, deflt, fixups, n_fixups);
        return;
    }
    int mid = n / 2;
    emit(BPF_JGE_K, 0, 1, e[mid].nr);
    int to_right = emit(BPF_JA, 0, 0, 0);
    emit_tree(e, mid, deflt, fixups, n_fixups);
    patch_ja(to_right, prog.n);
    emit_tree(e + mid, n - mid, deflt, fixups, n_fixups);
}

/* One argument rule: if it matches, return its action; else fall through to the next. */
static void emit_cond(const struct sc_rule *r)
{
    const struct sc_arg *a = &r->arg;
    uint32_t action = r->action == SC_ALLOW ? SECCOMP_RET_ALLOW : SECCOMP_RET_ERRNO | (uint32_t)r->errno_ret;
    uint32_t hi = (uint32_t)(a->value >> 32), lo = (uint32_t)a->value;
    emit(BPF_LD_W_ABS, 0, 0, OFF_ARG_HI(a->index));
    switch (a->op) {
    case SC_EQ:
        emit(BPF_JEQ_K, 0, 3, hi);
        emit(BPF_LD_W_ABS, 0, 0, OFF_ARG_LO(a->index));
        emit(BPF_JEQ_K, 0, 1, lo);
        break;
    case SC_LT: /* values below 2^32 only: the high word must be 0 */
        emit(BPF_JEQ_K, 0, 3, 0);
        emit(BPF_LD_W_ABS, 0, 0, OFF_ARG_LO(a->index));
        emit(BPF_JGE_K, 1, 0, lo);
        break;
    case SC_GT: /* values below 2^32 only: any high bit makes it greater */
        emit(BPF_JEQ_K, 1, 0, 0);
        emit(BPF_RET_K, 0, 0, action);
        emit(BPF_LD_W_ABS, 0, 0, OFF_ARG_LO(a->index));
        emit(BPF_JGT_K, 0, 1, lo);
        break;
    case SC_MASKED_EQ:
        emit(BPF_AND_K, 0, 0, (uint32_t)(a->mask >> 32));
        emit(BPF_JEQ_K, 0, 4, hi);
        emit(BPF_LD_W_ABS, 0, 0, OFF_ARG_LO(a->index));
        emit(BPF_AND_K, 0, 0, (uint32_t)a->mask);
        emit(BPF_JEQ_K, 0, 1, lo);
        break;
    case SC_ANY:
        fail(EXIT_SETUP, "seccomp", EINVAL, r->name);
    }
    emit(BPF_RET_K, 0, 0, action);
}

/* One ABI's section; A holds the syscall number on entry. */
static void emit_abi(const struct sc_policy *p, const struct abi *abi, uint64_t caps)
{
    uint32_t deflt = SECCOMP_RET_ERRNO | (uint32_t)p->default_errno;
    uint32_t max = collect(p, abi, caps);
    emit(BPF_JGT_K, 0, 1, max);
    emit(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | ENOSYS);
    int fixups[MAX_ENTRIES], n_fixups = 0;
    emit_tree(entries, n_entries, deflt, fixups, &n_fixups);
    for (int i = 0; i < n_entries; i++) {
        struct entry *e = &entries[i];
        if (e->kind != E_COND) continue;
        e->cond_at = prog.n;
        for (int c = 0; c < e->n_conds; c++) emit_cond(e->conds[c]);
        emit(BPF_RET_K, 0, 0, deflt);
    }
    for (int i = 0; i < n_fixups; i++) patch_ja(fixups[i], entries[prog.ins[fixups[i]].k].cond_at);
}

static void build(const struct sc_policy *p, uint64_t caps)
{
    prog.n = 0;
    emit(BPF_LD_W_ABS, 0, 0, OFF_ARCH);
#if defined(__x86_64__)
    const struct abi x86_64 = {ABI_X86_64, SC_NR_X86_64, sizeof SC_NR_X86_64 / sizeof SC_NR_X86_64[0]};
    const struct abi x32 = {ABI_X32, SC_NR_X32, sizeof SC_NR_X32 / sizeof SC_NR_X32[0]};
    const struct abi i386 = {ABI_I386, SC_NR_I386, sizeof SC_NR_I386 / sizeof SC_NR_I386[0]};
    emit(BPF_JEQ_K, 2, 0, AUDIT_ARCH_X86_64);
    emit(BPF_JEQ_K, 2, 0, AUDIT_ARCH_I386);
    emit(BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS);
    int to_64 = emit(BPF_JA, 0, 0, 0);
    /* i386 */
    emit(BPF_LD_W_ABS, 0, 0, OFF_NR);
    emit_abi(p, &i386, caps);
    patch_ja(to_64, prog.n);
    emit(BPF_LD_W_ABS, 0, 0, OFF_NR);
    emit(BPF_JGE_K, 0, 1, X32_SYSCALL_BIT);
    int to_x32 = emit(BPF_JA, 0, 0, 0);
    emit_abi(p, &x86_64, caps);
    patch_ja(to_x32, prog.n);
    emit_abi(p, &x32, caps);
#elif defined(__aarch64__)
    /* 32-bit ARM tasks are killed: no compat syscall table is built here. */
    const struct abi aarch64 = {ABI_AARCH64, SC_NR_AARCH64, sizeof SC_NR_AARCH64 / sizeof SC_NR_AARCH64[0]};
    emit(BPF_JEQ_K, 1, 0, AUDIT_ARCH_AARCH64);
    emit(BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS);
    emit(BPF_LD_W_ABS, 0, 0, OFF_NR);
    emit_abi(p, &aarch64, caps);
#else
#error "no seccomp syscall table for this architecture"
#endif
}

/* Install Docker's default filter for a process that keeps `caps`. */
void seccomp_install(uint64_t caps)
{
    build(&SECCOMP_DOCKER_DEFAULT, caps);
    struct sock_fprog fprog = {(unsigned short)prog.n, prog.ins};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0) die("seccomp", NULL);
}

/* `tsbuild-helper --seccomp-dump`: the filter's instructions, for tests and reading. */
int seccomp_dump_main(void)
{
    build(&SECCOMP_DOCKER_DEFAULT, DOCKER_CAPS);
    for (int i = 0; i < prog.n; i++) {
        char line[80];
        int len = snprintf(line, sizeof line, "%04d %02x %3u %3u 0x%08x\n", i, prog.ins[i].code, prog.ins[i].jt,
                           prog.ins[i].jf, prog.ins[i].k);
        if (write(1, line, (size_t)len) != len) return 1;
    }
    return 0;
}
