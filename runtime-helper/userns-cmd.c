/*
 * `tsbuild-helper --userns PROGRAM [ARGS...]`: rootless mode. An ordinary user becomes root
 * of a new user namespace that maps the user to 0 and the ranges /etc/subuid and /etc/subgid
 * give (written by Debian's setuid newuidmap/newgidmap, the only way to map more than one
 * id), with a private mount namespace, then execs PROGRAM (tsbuild's Node) there. Inside,
 * files keep the ids a Dockerfile names; on disk they carry the shifted ids.
 * Without a range (or without newuidmap) the map is the user alone, written by ourselves,
 * and one warning line says what then fails: chown to any other id.
 * The map is written for us by a child while we wait (a process cannot map itself with
 * newuidmap before it has unshared, nor exec it afterwards as the same user).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

struct range { unsigned long start, count; };

/* The first line `NAME:START:COUNT` (or `UID:START:COUNT`) of `file` for this user. */
static int find_range(const char *file, const char *name, uid_t uid, struct range *r)
{
    FILE *f = fopen(file, "re");
    if (!f) return 0;
    char line[512], who[256], id[32];
    snprintf(id, sizeof id, "%u", (unsigned)uid);
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long start, count;
        if (sscanf(line, "%255[^:]:%lu:%lu", who, &start, &count) != 3 || count == 0) continue;
        if ((name && strcmp(who, name) == 0) || strcmp(who, id) == 0) {
            r->start = start;
            r->count = count;
            found = 1;
        }
    }
    fclose(f);
    return found;
}

static int program_exists(const char *path) { return access(path, X_OK) == 0; }

static const char *find_tool(const char *name)
{
    static char buf[2][64];
    static const char *const dirs[] = {"/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"};
    int slot = strcmp(name, "newuidmap") == 0 ? 0 : 1;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(buf[slot], sizeof buf[slot], "%s/%s", dirs[i], name);
        if (program_exists(buf[slot])) return buf[slot];
    }
    return NULL;
}

/* newuidmap PID 0 ID 1 1 START COUNT: the user as 0, the range from 1 on. */
static int run_map_tool(const char *tool, pid_t pid, unsigned long id, const struct range *r)
{
    char a[4][24], b[3][24];
    snprintf(a[0], sizeof a[0], "%d", (int)pid);
    snprintf(a[1], sizeof a[1], "%lu", id);
    snprintf(b[0], sizeof b[0], "%lu", r->start);
    snprintf(b[1], sizeof b[1], "%lu", r->count);
    pid_t child = fork();
    if (child < 0) return -1;
    if (child == 0) {
        execl(tool, tool, a[0], "0", a[1], "1", "1", b[0], b[1], (char *)NULL);
        _exit(127);
    }
    int status;
    if (waitpid(child, &status, 0) < 0) return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static _Noreturn void userns_fail(const char *what)
{
    fprintf(stderr, "tsbuild: rootless: %s: %s\n", what, strerror(errno));
    _exit(EXIT_SETUP);
}

int userns_main(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "usage: tsbuild-helper --userns PROGRAM [ARGS...]\n");
        return 2;
    }
    uid_t uid = getuid();
    gid_t gid = getgid();
    struct passwd *pw = getpwuid(uid);
    const char *name = pw ? pw->pw_name : NULL;
    struct range ur = {0}, gr = {0};
    int ranges = find_range("/etc/subuid", name, uid, &ur) && find_range("/etc/subgid", name, uid, &gr);
    const char *newuidmap = find_tool("newuidmap"), *newgidmap = find_tool("newgidmap");
    int wide = ranges && newuidmap && newgidmap;
    if (!wide) {
        const char *who = name ? name : "this user";
        if (!ranges)
            fprintf(stderr, "tsbuild: warning: no subuid/subgid range for %s: containers have root only, chown to any other id fails "
                            "(add `%s:100000:65536` to /etc/subuid and /etc/subgid)\n", who, who);
        else
            fprintf(stderr, "tsbuild: warning: newuidmap/newgidmap not found: containers have root only, chown to any other id fails "
                            "(apt-get install uidmap)\n");
    }
    int go[2], done[2];
    if (pipe2(go, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0) userns_fail("pipe");
    pid_t self = getpid();
    pid_t mapper = -1;
    if (wide) {
        mapper = fork();
        if (mapper < 0) userns_fail("fork");
        if (mapper == 0) { /* waits for the unshare, maps its parent, says so */
            char c;
            close(go[1]);
            if (read(go[0], &c, 1) != 1) _exit(1);
            int ok = run_map_tool(newuidmap, self, uid, &ur) == 0 && run_map_tool(newgidmap, self, gid, &gr) == 0;
            _exit(ok ? 0 : 1);
        }
    }
    if (unshare(CLONE_NEWUSER) < 0) userns_fail("unshare user namespace");
    if (wide) {
        if (write(go[1], "g", 1) != 1) userns_fail("pipe");
        int status;
        if (waitpid(mapper, &status, 0) < 0) userns_fail("wait for newuidmap");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            errno = EPERM;
            userns_fail("newuidmap/newgidmap failed to map /etc/subuid and /etc/subgid ranges");
        }
    } else {
        char map[64];
        snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
        if (write_file("/proc/self/uid_map", map) < 0) userns_fail("write uid_map");
        if (write_file("/proc/self/setgroups", "deny") < 0) userns_fail("write setgroups");
        snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
        if (write_file("/proc/self/gid_map", map) < 0) userns_fail("write gid_map");
    }
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) userns_fail("become root of the user namespace");
    if (wide && setgroups(0, NULL) < 0) userns_fail("setgroups");
    if (unshare(CLONE_NEWNS) < 0) userns_fail("unshare mount namespace");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) userns_fail("make / private");
    /* tsbuild's store and replay rules follow the user, not the namespace's root. */
    setenv("TSBUILD_USERNS", wide ? "ranges" : "single", 1);
    /* The Node that started us waits for us; without it we stop (and our containers with us). */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) userns_fail("prctl PDEATHSIG");
    execvp(argv[0], argv);
    userns_fail(argv[0]);
}
