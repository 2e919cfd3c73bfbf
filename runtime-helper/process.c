/*
 * The process: no_new_privs, Docker's default capabilities, uid/gid/groups (numbers only:
 * names were resolved in TypeScript from the image's /etc/passwd), the working dir, and
 * exec with exactly the spec's environment and a PATH lookup in the container.
 */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define CAP_VERSION_3 0x20080522
#define CAP_MAX 63

struct cap_header { uint32_t version; int pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };

static const char DEFAULT_PATH[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/* The capabilities the command keeps: Docker's set, or all of them for an insecure RUN. */
uint64_t process_caps(const struct spec *spec)
{
    return spec->insecure ? ALL_CAPS : spec->caps_set ? spec->caps : DOCKER_CAPS;
}

/* capset refuses bits outside the bounding set (an older kernel knows fewer caps). */
static uint64_t bounding_set(void)
{
    uint64_t set = 0;
    for (int cap = 0; cap <= CAP_MAX; cap++)
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) set |= 1ULL << cap;
    return set;
}

static void set_caps(uint64_t caps)
{
    struct cap_header h = {CAP_VERSION_3, 0};
    struct cap_data d[2] = {{(uint32_t)caps, (uint32_t)caps, 0}, {(uint32_t)(caps >> 32), (uint32_t)(caps >> 32), 0}};
    if (syscall(SYS_capset, &h, d) < 0) die("capset", NULL);
}

static int wants_seccomp(const struct spec *spec) { return !spec->insecure && !spec->seccomp_unconfined; }

/* Order matters: the bounding set is cut while we still hold CAP_SETPCAP, the groups and
 * gid change before the uid (after it we could not), KEEPCAPS carries the permitted set
 * across setresuid, and execve then leaves a non-root user with no effective caps. */
void process_restrict(const struct spec *spec)
{
    uint64_t caps = process_caps(spec);
    if (!spec->new_privs_allowed) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die("prctl NO_NEW_PRIVS", NULL);
    } else if (wants_seccomp(spec)) {
        /* Without no_new_privs the kernel takes a filter only from CAP_SYS_ADMIN: installed
         * now, while we hold it, as runc does; the profile allows what follows (capset, setresuid). */
        seccomp_install(caps);
    }
    for (int cap = 0; cap <= CAP_MAX; cap++)
        if (!(caps >> cap & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            die("prctl CAPBSET_DROP", NULL);
    /* A rootless single-id map denies setgroups; with no groups asked for there is nothing to drop
     * (the map holds root's group alone). */
    if (setgroups((size_t)spec->n_groups, spec->groups) < 0 && !(errno == EPERM && spec->n_groups == 0 && in_user_namespace()))
        die("setgroups", NULL);
    if (setresgid(spec->gid, spec->gid, spec->gid) < 0) die("setresgid", NULL);
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) die("prctl KEEPCAPS", NULL);
    if (setresuid(spec->uid, spec->uid, spec->uid) < 0) die("setresuid", NULL);
    set_caps(caps & bounding_set());
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        die("prctl CAP_AMBIENT_CLEAR_ALL", NULL);
    /* The uid change cleared the parent-death signal: set it again. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die("prctl PDEATHSIG", NULL);
    umask(022);
}

/* Docker's CLI maps "permission denied" to 126 and "no such file" to 127; the rest is 125. */
static int code_for(int err, int otherwise)
{
    return err == EACCES || err == EISDIR ? EXIT_NOT_EXECUTABLE : err == ENOENT ? EXIT_NOT_FOUND : otherwise;
}

void process_chdir(const struct spec *spec)
{
    if (chdir(spec->cwd) < 0) {
        int err = errno;
        fail(code_for(err, EXIT_SETUP), "chdir", err, spec->cwd);
    }
}

static const char *env_path(const struct spec *spec)
{
    for (int i = 0; i < spec->n_env; i++)
        if (!strncmp(spec->env[i], "PATH=", 5)) return spec->env[i] + 5;
    return DEFAULT_PATH;
}

static void reset_signals(void)
{
    sigset_t none;
    sigemptyset(&none);
    for (int sig = 1; sig < 32; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* execvpe without its /bin/sh fallback (runc has none either): the first executable
 * candidate in the container's PATH wins; EACCES is remembered while looking further. */
void process_exec(const struct spec *spec)
{
    const char *name = spec->argv[0];
    char *const *argv = (char *const *)spec->argv;
    char *const *envp = (char *const *)spec->env;
    /* fds above 2 must not reach the command; the channel socket closes at exec. */
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) die("close_range", NULL);
    reset_signals();
    /* Last, so that nothing the helper itself still does is filtered. */
    if (wants_seccomp(spec) && !spec->new_privs_allowed) seccomp_install(process_caps(spec));
    if (name[0] == '\0') fail(EXIT_NOT_FOUND, "exec", ENOENT, name);
    if (strchr(name, '/')) {
        execve(name, argv, envp);
        int err = errno;
        fail(code_for(err, EXIT_NOT_EXECUTABLE), "exec", err, name);
    }
    const char *path = env_path(spec);
    int seen_eacces = 0;
    char candidate[4096];
    for (const char *p = path;; p++) {
        const char *end = strchrnul(p, ':');
        int len = (int)(end - p);
        /* An empty PATH entry means the current dir, as in execvp. */
        if (snprintf(candidate, sizeof candidate, "%.*s%s%s", len, p, len ? "/" : "", name) < (int)sizeof candidate) {
            execve(candidate, argv, envp);
            if (errno == EACCES) seen_eacces = 1;
            else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP && errno != ENAMETOOLONG) {
                int err = errno;
                fail(code_for(err, EXIT_NOT_EXECUTABLE), "exec", err, candidate);
            }
        }
        if (*end == '\0') break;
        p = end;
    }
    fail(seen_eacces ? EXIT_NOT_EXECUTABLE : EXIT_NOT_FOUND, "exec", seen_eacces ? EACCES : ENOENT, name);
}
