/*
 * Read and check the spec: NUL-separated key=value pairs on fd 3, written by
 * executor/container-spec.ts. Keys (repeatable ones marked *):
 *   rootfs=overlay|dir   lower=PATH*  upper=PATH  work=PATH  dir=PATH  mount_point=PATH
 *   arg=WORD*  env=K=V*  cwd=PATH  uid=N  gid=N  group=N*  hostname=NAME
 *   network=host|none|private  slirp=PATH (private: the slirp4netns program)
 *   netns=PATH   (private: join this network namespace, held by `--netns`, instead)  tty=0|1  remove=PATH*  status_file=PATH
 *   bind=SRC<TAB>TARGET*  bind_ro=SRC<TAB>TARGET*  bind_etc=SRC<TAB>TARGET*
 *   device=SRC<TAB>TARGET*   (run --device: a host device node; the only binds not nodev)
 *   tmpfs=SIZE<TAB>TARGET*   (SIZE in bytes, 0 for the kernel's default)
 *   cgroup=DIR*   (a cgroup dir, limits already written, that pid 1 joins)
 *   device_filter=DIR  device_rule=RULE*   (cgroup v2: the device allow-list, as eBPF on DIR)
 *   tree=DIR<TAB>OUT   (after the command, DIR's entries and their stats into OUT: tree.c)
 *   security=sandbox|insecure   (insecure: every capability, no seccomp; default sandbox)
 *   seccomp=default|unconfined  (Docker's default profile unless unconfined)
 *   system_paths=default|unconfined  (unconfined: no masked or read-only /proc, /sys paths)
 *   no_new_privs=1|0   (0: setuid programs gain privileges, run --security-opt no-new-privileges=false)
 *   parent=PID   (a RUN step: the helper, and so the container, dies with PID, its parent)
 *   owner=PID    (run in the foreground: when PID dies, the helper kills the container and cleans up)
 *   read_only=1   (run --read-only)   caps=HEX   (the capability set instead of Docker's)
 *   slirp_api=PATH  publish=PROTO<TAB>HOST_IP<TAB>HOST_PORT<TAB>CONTAINER_PORT[<TAB>optional]*   (run -p;
 *                an IPv6 HOST_IP goes through port-proxy.c; optional: skipped on a host without IPv6)
 *   enter=PID    (--enter: join the running container whose pid 1 is PID; no rootfs keys)
 *   log=PATH  log_max=BYTES   (run -d: the output as timestamped records, log.c)
 *   log_tee=1   (a foreground run: logged, and passed on to the helper's stdout/stderr too)
 * A malformed spec is the caller's bug: one line on stderr, exit 125.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"

#define SPEC_MAX (4 << 20)

static char *read_all(int fd, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) die("spec: malloc", NULL);
    for (;;) {
        if (n == cap) {
            if (cap >= SPEC_MAX) fail(EXIT_SETUP, "spec", E2BIG, "fd 3");
            cap *= 2;
            buf = realloc(buf, cap + 1);
            if (!buf) die("spec: realloc", NULL);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) die("spec: read fd 3", NULL);
        if (r == 0) break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static unsigned long number(const char *key, const char *v)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (errno || *v == '\0' || *end != '\0' || n > 0xfffffffeUL) fail(EXIT_SETUP, "spec", EINVAL, key);
    return n;
}

static void add(const char **list, int *n, const char *v, const char *key)
{
    if (*n >= MAX_ITEMS) fail(EXIT_SETUP, "spec", E2BIG, key);
    list[(*n)++] = v;
}

static void add_bind(struct spec *spec, char *v, int readonly, int optional, int device)
{
    char *tab = strchr(v, '\t');
    if (!tab || tab == v || tab[1] != '/') fail(EXIT_SETUP, "spec", EINVAL, "bind");
    if (spec->n_binds >= MAX_ITEMS) fail(EXIT_SETUP, "spec", E2BIG, "bind");
    *tab = '\0';
    struct bind *b = &spec->binds[spec->n_binds++];
    b->source = v;
    b->target = tab + 1;
    b->readonly = readonly;
    b->optional = optional;
    b->device = device;
    b->source_fd = -1;
}

static void add_tmpfs(struct spec *spec, char *v)
{
    char *tab = strchr(v, '\t');
    if (!tab || tab == v || tab[1] != '/') fail(EXIT_SETUP, "spec", EINVAL, "tmpfs");
    if (spec->n_tmpfs >= MAX_TMPFS) fail(EXIT_SETUP, "spec", E2BIG, "tmpfs");
    *tab = '\0';
    struct tmpfs *t = &spec->tmpfs[spec->n_tmpfs++];
    t->size = number("tmpfs", v);
    t->target = tab + 1;
}

static void set(struct spec *spec, const char *key, char *v)
{
    if (!strcmp(key, "rootfs")) {
        if (!strcmp(v, "overlay")) spec->rootfs_kind = ROOTFS_OVERLAY;
        else if (!strcmp(v, "dir")) spec->rootfs_kind = ROOTFS_DIR;
        else fail(EXIT_SETUP, "spec", EINVAL, key);
    } else if (!strcmp(key, "lower")) add(spec->lower, &spec->n_lower, v, key);
    else if (!strcmp(key, "upper")) spec->upper = v;
    else if (!strcmp(key, "work")) spec->work = v;
    else if (!strcmp(key, "dir")) spec->rootfs_dir = v;
    else if (!strcmp(key, "mount_point")) spec->mount_point = v;
    else if (!strcmp(key, "arg")) add(spec->argv, &spec->n_argv, v, key);
    else if (!strcmp(key, "env")) add(spec->env, &spec->n_env, v, key);
    else if (!strcmp(key, "cwd")) spec->cwd = v;
    else if (!strcmp(key, "uid")) spec->uid = (uid_t)number(key, v);
    else if (!strcmp(key, "gid")) spec->gid = (gid_t)number(key, v);
    else if (!strcmp(key, "group")) {
        if (spec->n_groups >= MAX_ITEMS) fail(EXIT_SETUP, "spec", E2BIG, key);
        spec->groups[spec->n_groups++] = (gid_t)number(key, v);
    } else if (!strcmp(key, "hostname")) spec->hostname = v;
    else if (!strcmp(key, "network")) {
        if (!strcmp(v, "none")) spec->network_none = 1;
        else if (!strcmp(v, "private")) spec->network_private = 1;
        else if (strcmp(v, "host")) fail(EXIT_SETUP, "spec", EINVAL, key);
    } else if (!strcmp(key, "netns")) {
        if (v[0] != '/') fail(EXIT_SETUP, "spec", EINVAL, key);
        spec->netns = v;
    } else if (!strcmp(key, "slirp")) {
        if (v[0] != '/') fail(EXIT_SETUP, "spec", EINVAL, key);
        spec->slirp = v;
    } else if (!strcmp(key, "tty")) spec->tty = !strcmp(v, "1");
    else if (!strcmp(key, "remove")) {
        if (spec->n_remove >= MAX_REMOVE) fail(EXIT_SETUP, "spec", E2BIG, key);
        spec->remove[spec->n_remove++] = v;
    }
    else if (!strcmp(key, "status_file")) spec->status_file = v;
    else if (!strcmp(key, "bind")) add_bind(spec, v, 0, 0, 0);
    else if (!strcmp(key, "bind_ro")) add_bind(spec, v, 1, 0, 0);
    else if (!strcmp(key, "bind_etc")) add_bind(spec, v, 0, 1, 0);
    else if (!strcmp(key, "device")) add_bind(spec, v, 0, 0, 1);
    else if (!strcmp(key, "tmpfs")) add_tmpfs(spec, v);
    else if (!strcmp(key, "tree")) {
        char *tab = strchr(v, '\t');
        if (!tab || v[0] != '/' || tab[1] != '/') fail(EXIT_SETUP, "spec", EINVAL, key);
        *tab = '\0';
        spec->tree_dir = v;
        spec->tree_out = tab + 1;
    }
    else if (!strcmp(key, "security")) {
        if (!strcmp(v, "insecure")) spec->insecure = 1;
        else if (strcmp(v, "sandbox")) fail(EXIT_SETUP, "spec", EINVAL, key);
    } else if (!strcmp(key, "seccomp")) {
        if (!strcmp(v, "unconfined")) spec->seccomp_unconfined = 1;
        else if (strcmp(v, "default")) fail(EXIT_SETUP, "spec", EINVAL, key);
    } else if (!strcmp(key, "system_paths")) {
        if (!strcmp(v, "unconfined")) spec->system_paths_unconfined = 1;
        else if (strcmp(v, "default")) fail(EXIT_SETUP, "spec", EINVAL, key);
    } else if (!strcmp(key, "no_new_privs")) {
        if (!strcmp(v, "0")) spec->new_privs_allowed = 1;
        else if (strcmp(v, "1")) fail(EXIT_SETUP, "spec", EINVAL, key);
    }
    else if (!strcmp(key, "device_filter")) {
        if (v[0] != '/') fail(EXIT_SETUP, "spec", EINVAL, key);
        spec->device_filter_dir = v;
    } else if (!strcmp(key, "device_rule")) add(spec->device_rules, &spec->n_device_rules, v, key);
    else if (!strcmp(key, "parent")) spec->parent = (pid_t)number(key, v);
    else if (!strcmp(key, "owner")) spec->owner = (pid_t)number(key, v);
    else if (!strcmp(key, "read_only")) spec->readonly_rootfs = !strcmp(v, "1");
    else if (!strcmp(key, "caps")) {
        char *end;
        errno = 0;
        spec->caps = strtoull(v, &end, 16);
        if (errno || *v == '\0' || *end != '\0') fail(EXIT_SETUP, "spec", EINVAL, key);
        spec->caps_set = 1;
    } else if (!strcmp(key, "slirp_api")) {
        if (v[0] != '/') fail(EXIT_SETUP, "spec", EINVAL, key);
        spec->slirp_api = v;
    } else if (!strcmp(key, "publish")) {
        if (spec->n_publish >= MAX_PUBLISH) fail(EXIT_SETUP, "spec", E2BIG, key);
        spec->publish[spec->n_publish++] = v;
    }
    else if (!strcmp(key, "enter")) spec->enter = (pid_t)number(key, v);
    else if (!strcmp(key, "log")) {
        if (v[0] != '/') fail(EXIT_SETUP, "spec", EINVAL, key);
        spec->log_file = v;
    } else if (!strcmp(key, "log_max")) spec->log_max = number(key, v);
    else if (!strcmp(key, "log_tee")) spec->log_tee = !strcmp(v, "1");
    else if (!strcmp(key, "cgroup")) {
        if (spec->n_cgroups >= MAX_CGROUPS || v[0] != '/') fail(EXIT_SETUP, "spec", EINVAL, key);
        spec->cgroups[spec->n_cgroups++] = v;
    }
    else fail(EXIT_SETUP, "spec", EINVAL, key);
}

static void check(const struct spec *spec)
{
    if (spec->enter > 0) { /* the container exists: only the process is described */
        if (spec->n_argv < 1) fail(EXIT_SETUP, "spec", EINVAL, "arg");
        if (!spec->cwd || spec->cwd[0] != '/') fail(EXIT_SETUP, "spec", EINVAL, "cwd");
        return;
    }
    if (!spec->mount_point || spec->mount_point[0] != '/') fail(EXIT_SETUP, "spec", EINVAL, "mount_point");
    if (spec->rootfs_kind == ROOTFS_OVERLAY) {
        /* Overlay needs two lower dirs without an upper; the helper adds its stub dir as one. */
        if (spec->n_lower < 1) fail(EXIT_SETUP, "spec", EINVAL, "lower");
        if (!spec->upper != !spec->work) fail(EXIT_SETUP, "spec", EINVAL, "upper/work");
    } else if (!spec->rootfs_dir) fail(EXIT_SETUP, "spec", EINVAL, "dir");
    if (spec->n_argv < 1) fail(EXIT_SETUP, "spec", EINVAL, "arg");
    if (!spec->cwd || spec->cwd[0] != '/') fail(EXIT_SETUP, "spec", EINVAL, "cwd");
    if (spec->network_private && !spec->slirp && !spec->netns) fail(EXIT_SETUP, "spec", EINVAL, "slirp");
    if (spec->n_publish > 0 && (!spec->slirp_api || !spec->slirp || spec->netns)) fail(EXIT_SETUP, "spec", EINVAL, "publish");
}

void spec_read(struct spec *spec, int fd)
{
    size_t len;
    char *buf = read_all(fd, &len);
    close(fd);
    memset(spec, 0, sizeof *spec);
    for (size_t i = 0; i < len;) {
        char *item = buf + i;
        size_t n = strlen(item);
        i += n + 1;
        if (n == 0) continue;
        char *eq = strchr(item, '=');
        if (!eq) fail(EXIT_SETUP, "spec", EINVAL, item);
        *eq = '\0';
        set(spec, item, eq + 1);
    }
    check(spec);
    if (spec->status_file) report_set_status_file(spec->status_file);
    spec->argv[spec->n_argv] = NULL;
    spec->env[spec->n_env] = NULL;
}
