/*
 * The container's filesystem: a private tmpfs on the mount point holds short symlinks to
 * the lower dirs (so 150 layers fit in overlay's one-page mount data), a "stub" dir used
 * as the bottom-most lower dir (it provides /proc, /dev, /sys and the bind targets, so
 * mount points never land in the upper dir and never reach a snapshot), and root/, where
 * the overlay (or a bind of a plain dir) is mounted. After pivot_root every path resolves
 * inside the container, so an image's symlinks cannot point a mount at the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

#define OVERLAY_DATA_MAX 4095 /* mount(2) copies one page of options */

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef MOUNT_ATTR_RDONLY /* glibc's sys/mount.h has them from 2.36 on */
#define MOUNT_ATTR_RDONLY 0x1
#define MOUNT_ATTR_NOSUID 0x2
#define MOUNT_ATTR_NODEV 0x4
#endif
struct mount_attr_ { uint64_t attr_set, attr_clr, propagation, userns_fd; }; /* linux/mount.h */

static const char *const DEFAULT_DEVICES[N_DEFAULT_DEVICES] = {"/dev/null", "/dev/zero", "/dev/full",
                                                               "/dev/random", "/dev/urandom", "/dev/tty"};

static const char *const MASKED[] = {"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore",
                                     "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                                     "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                                     "/sys/firmware", "/sys/devices/virtual/powercap"};
static const char *const READONLY[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                       "/proc/sysrq-trigger"};

/* Set mount attributes on a whole tree (a detached clone, or a path with fd AT_FDCWD). */
static int set_attrs(int fd, const char *path, uint64_t attrs)
{
    struct mount_attr_ attr = {.attr_set = attrs};
    return (int)syscall(SYS_mount_setattr, fd, path, (path[0] ? 0 : AT_EMPTY_PATH) | AT_RECURSIVE, &attr, sizeof attr);
}

static int clone_tree(const char *path)
{
    return (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE);
}

static void path_join(char *out, const char *a, const char *b)
{
    if (snprintf(out, PATH_MAX, "%s%s", a, b) >= PATH_MAX) {
        errno = ENAMETOOLONG;
        die("path", a);
    }
}

/* mkdir -p of every parent of `path` (and of path itself when `last` is set). */
static int mkdir_parents(const char *path, int last)
{
    char buf[PATH_MAX];
    path_join(buf, path, "");
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (last && mkdir(buf, 0755) < 0 && errno != EEXIST) return -1;
    return 0;
}

static int is_dir_fd(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

/* An empty file or dir at `path` (parents included) to mount something on. */
static int make_target(const char *path, int dir)
{
    if (mkdir_parents(path, dir) < 0) return -1;
    if (dir) return 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return errno == EEXIST ? 0 : -1;
    close(fd);
    return 0;
}

static void build_stub(struct spec *spec, const char *base)
{
    char stub[PATH_MAX], p[PATH_MAX];
    path_join(stub, base, "/stub");
    static const char *const dirs[] = {"/proc", "/dev", "/sys"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        path_join(p, stub, dirs[i]);
        if (mkdir_parents(p, 1) < 0) die("mkdir", p);
    }
    for (int i = 0; i < spec->n_binds; i++) {
        path_join(p, stub, spec->binds[i].target);
        if (make_target(p, is_dir_fd(spec->binds[i].source_fd)) < 0) die("create mount target", p);
    }
    for (int i = 0; i < spec->n_tmpfs; i++) {
        path_join(p, stub, spec->tmpfs[i].target);
        if (make_target(p, 1) < 0) die("create mount target", p);
    }
}

/* lowerdir=0:1:…:stub with l/N → the real lower dir, so the data stays within one page. */
static void mount_overlay(struct spec *spec, const char *base, const char *root)
{
    char l[PATH_MAX], name[32], data[OVERLAY_DATA_MAX + 1];
    path_join(l, base, "/l");
    if (mkdir(l, 0700) < 0) die("mkdir", l);
    if (chdir(l) < 0) die("chdir", l);
    size_t n = (size_t)snprintf(data, sizeof data, "lowerdir=");
    for (int i = 0; i < spec->n_lower; i++) {
        snprintf(name, sizeof name, "%d", i);
        if (symlink(spec->lower[i], name) < 0) die("symlink", spec->lower[i]);
        n += (size_t)snprintf(data + n, sizeof data - n, "%s:", name);
        if (n >= sizeof data) break;
    }
    if (symlink("../stub", "s") < 0) die("symlink", "stub");
    n += (size_t)snprintf(data + n, n < sizeof data ? sizeof data - n : 0, "s");
    if (spec->upper) {
        if (symlink(spec->upper, "u") < 0) die("symlink", spec->upper);
        if (symlink(spec->work, "w") < 0) die("symlink", spec->work);
        n += (size_t)snprintf(data + n, n < sizeof data ? sizeof data - n : 0, ",upperdir=u,workdir=w");
    }
    /* In a user namespace overlay may keep its marks only in user.overlay.* xattrs. */
    if (in_user_namespace()) n += (size_t)snprintf(data + n, n < sizeof data ? sizeof data - n : 0, ",userxattr");
    if (n >= sizeof data) {
        errno = E2BIG;
        die("mount overlay: too many lower dirs", root);
    }
    /* nodev: a device node in an image layer or made by mknod cannot be opened (Docker relies on
     * its device cgroup alone; we have both). */
    if (mount("overlay", root, "overlay", MS_NODEV | (spec->upper ? 0 : MS_RDONLY), data) < 0)
        die("mount overlay on", root);
    if (chdir("/") < 0) die("chdir", "/");
}

void rootfs_mount(struct spec *spec)
{
    char root[PATH_MAX];
    /* Nothing we mount may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make / private", NULL);
    if (mount("tmpfs", spec->mount_point, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0)
        die("mount tmpfs on", spec->mount_point);
    /* Bind sources are cloned now as detached mounts (open_tree): after pivot_root the
     * host's paths are gone, and a plain bind from a detached mount is refused. */
    for (int i = 0; i < spec->n_binds; i++) {
        struct bind *b = &spec->binds[i];
        b->source_fd = clone_tree(b->source);
        if (b->source_fd < 0) die("open bind source", b->source);
        /* Only a --device bind may carry device nodes; none may carry setuid bits. */
        uint64_t attrs = MOUNT_ATTR_NOSUID | (b->device ? 0 : MOUNT_ATTR_NODEV) | (b->readonly ? MOUNT_ATTR_RDONLY : 0);
        if (set_attrs(b->source_fd, "", attrs) < 0) die("set bind attributes", b->source);
    }
    for (int i = 0; i < N_DEFAULT_DEVICES; i++) {
        spec->default_device_fd[i] = clone_tree(DEFAULT_DEVICES[i]);
        if (spec->default_device_fd[i] < 0) die("open device", DEFAULT_DEVICES[i]);
    }
    path_join(root, spec->mount_point, "/root");
    if (mkdir(root, 0755) < 0) die("mkdir", root);
    if (spec->rootfs_kind == ROOTFS_OVERLAY) {
        build_stub(spec, spec->mount_point);
        mount_overlay(spec, spec->mount_point, root);
    } else {
        if (mount(spec->rootfs_dir, root, NULL, MS_BIND | MS_REC, NULL) < 0) die("bind rootfs dir", spec->rootfs_dir);
        if (set_attrs(AT_FDCWD, root, MOUNT_ATTR_NODEV) < 0) die("set rootfs attributes", root);
    }
}

/* A read-only /sys. In a user namespace sysfs mounts only with a network namespace of its
 * own (not with --network host): there the host's /sys is bound in, read-only, as rootless
 * runc does. */
static void mount_sys(void)
{
    if (mkdir("sys", 0755) < 0 && errno != EEXIST) die("mkdir", "/sys");
    if (mount("sysfs", "sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0) return;
    if (errno != EPERM || mount("/sys", "sys", NULL, MS_BIND | MS_REC, NULL) < 0) die("mount", "/sys");
    if (set_attrs(AT_FDCWD, "sys", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) < 0) die("remount ro", "/sys");
}

/* pivot_root(".", "."): the old root ends up stacked on the new one and is detached.
 * /proc and /sys are mounted first, while the host's are still in this mount namespace: in a
 * user namespace the kernel mounts them only where a fully visible one already is. */
void rootfs_pivot(const struct spec *spec)
{
    char root[PATH_MAX];
    path_join(root, spec->mount_point, "/root");
    if (chdir(root) < 0) die("chdir", root);
    if (mkdir("proc", 0755) < 0 && errno != EEXIST) die("mkdir", "/proc");
    if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) die("mount", "/proc");
    mount_sys();
    if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root", NULL);
    if (umount2(".", MNT_DETACH) < 0) die("detach old root", NULL);
    if (chdir("/") < 0) die("chdir", "/");
}

static void mount_at(const char *src, const char *target, const char *type, unsigned long flags,
                     const char *data)
{
    if (mkdir(target, 0755) < 0 && errno != EEXIST) die("mkdir", target);
    if (mount(src, target, type, flags, data) < 0) die("mount", target);
}

static void readonly_bind(const char *path, unsigned long extra)
{
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) die("bind", path);
    if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | extra, NULL) < 0) die("remount ro", path);
}

/* move_mount of a detached clone onto `target`, made (as a file or dir) where missing. */
static void attach(int fd, const char *target, int dir, int optional)
{
    if (access(target, F_OK) < 0) {
        if (optional) return;
        if (make_target(target, dir) < 0) die("create mount target", target);
    }
    if (syscall(SYS_move_mount, fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0) die("bind", target);
    close(fd);
}

/* /dev is a nodev tmpfs: the default devices are binds of the host's nodes (their mounts
 * keep dev), so a node made with mknod here is as useless as one in the rootfs. */
static void make_dev(struct spec *spec)
{
    static const char *const links[][2] = {
        {"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"},
        {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
        {"pts/ptmx", "/dev/ptmx"}};
    mount_at("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME, "mode=755,size=65536k");
    for (int i = 0; i < N_DEFAULT_DEVICES; i++) attach(spec->default_device_fd[i], DEFAULT_DEVICES[i], 0, 0);
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        if (symlink(links[i][0], links[i][1]) < 0) die("symlink", links[i][1]);
    /* gid 5 (tty) only where it is mapped: a rootless single-id map has root alone. */
    mount_at("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
             highest_mapped_gid() >= 5 ? "newinstance,ptmxmode=0666,mode=0620,gid=5" : "newinstance,ptmxmode=0666,mode=0620");
    mount_at("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
    mount_at("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

/* Docker's masked paths: files hidden under /dev/null, dirs under an empty read-only tmpfs. */
static void mask_paths(void)
{
    for (size_t i = 0; i < sizeof MASKED / sizeof MASKED[0]; i++) {
        struct stat st;
        if (stat(MASKED[i], &st) < 0) continue; /* not on this kernel */
        int r = S_ISDIR(st.st_mode) ? mount("tmpfs", MASKED[i], "tmpfs", MS_RDONLY, "size=0")
                                    : mount("/dev/null", MASKED[i], NULL, MS_BIND, NULL);
        if (r < 0) die("mask", MASKED[i]);
    }
    /* And each CPU's thermal_throttle (moby daemon/pkg/oci/defaults.go, GHSA-6fw5-f8r9-fgfm). */
    char cpu[96];
    for (int n = 0; n < 4096; n++) {
        snprintf(cpu, sizeof cpu, "/sys/devices/system/cpu/cpu%d", n);
        if (access(cpu, F_OK) < 0) break;
        snprintf(cpu, sizeof cpu, "/sys/devices/system/cpu/cpu%d/thermal_throttle", n);
        if (access(cpu, F_OK) == 0 && mount("tmpfs", cpu, "tmpfs", MS_RDONLY, "size=0") < 0) die("mask", cpu);
    }
    for (size_t i = 0; i < sizeof READONLY / sizeof READONLY[0]; i++) {
        if (access(READONLY[i], F_OK) < 0) continue;
        readonly_bind(READONLY[i], MS_NOSUID | MS_NODEV | MS_NOEXEC);
    }
}

/* The binds' attributes (nodev, nosuid, ro) were set on their clones before pivot_root. */
static void mount_binds(struct spec *spec)
{
    for (int i = 0; i < spec->n_binds; i++) {
        struct bind *b = &spec->binds[i];
        /* etc files: only where the image has them */
        attach(b->source_fd, b->target, is_dir_fd(b->source_fd), b->optional);
    }
}

/* RUN --mount=type=tmpfs: a fresh tmpfs, gone with the container's mount namespace. */
static void mount_tmpfs(struct spec *spec)
{
    char data[64];
    for (int i = 0; i < spec->n_tmpfs; i++) {
        struct tmpfs *t = &spec->tmpfs[i];
        if (t->size) snprintf(data, sizeof data, "mode=1777,size=%lu", t->size);
        else snprintf(data, sizeof data, "mode=1777");
        if (access(t->target, F_OK) < 0 && make_target(t->target, 1) < 0) die("create mount target", t->target);
        if (mount("tmpfs", t->target, "tmpfs", MS_NOSUID | MS_NODEV, data) < 0) die("mount tmpfs on", t->target);
    }
}

/* After pivot_root (/proc, mounted after the pid-namespace fork, and /sys are there):
 * /dev, the binds, Docker's masks, the cwd. */
void rootfs_finish(struct spec *spec)
{
    net_sysctls(spec); /* before mask_paths makes /proc/sys read-only */
    make_dev(spec);
    mount_binds(spec);
    mount_tmpfs(spec);
    if (!spec->system_paths_unconfined) mask_paths();
    /* Like Docker, a missing working dir is created (owned by root). */
    if (mkdir_parents(spec->cwd, 1) < 0) {
        int err = errno;
        fail(err == EACCES ? EXIT_NOT_EXECUTABLE : err == ENOENT ? EXIT_NOT_FOUND : EXIT_SETUP, "chdir", err,
             spec->cwd);
    }
    /* run --read-only: last, once every mount point and the working dir exist. */
    if (spec->readonly_rootfs) readonly_bind("/", MS_NODEV);
}
