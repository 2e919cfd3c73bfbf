/*
 * `tsbuild-helper --front SCRIPT ARGS...`: the front door of the `tsbuild` command.
 *
 * dist/tsbuild.cjs (the bin) runs this first. A fully cached build whose record says that
 * nothing it depended on changed is replayed here: its output printed again, exit 0, in a
 * couple of milliseconds and without starting Node. Anything else, and this execs
 * `node SCRIPT ARGS...` (NODE_EXTRA_CA_CERTS handed over as TSBUILD_EXTRA_CA_CERTS, see
 * cli/launch.ts). No V8 flags: any flag makes V8 refuse the code cache of Node's own
 * modules (see common/young-generation.ts).
 *
 * The record format, the key and what is checked are defined by cli/build-replay.ts,
 * which writes the records; this file only reads them. Every check that cannot be made
 * (a missing file, a malformed record, no HOME) means "no replay", never an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper.h"

extern char **environ;

#define MAGIC "tsbuild-replay-1"

/* A growing byte buffer (the key, the record). */
struct buf {
    char *data;
    size_t len, cap;
};

static int buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

/* A string and its terminating NUL. */
static int buf_str(struct buf *b, const char *s)
{
    return buf_add(b, s, strlen(s) + 1);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_volatile(const char *entry)
{
    static const char *names[] = {"_=", "OLDPWD=", "TSBUILD_DEBUG="};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strncmp(entry, names[i], strlen(names[i])) == 0) return 1;
    return 0;
}

/* The store root as cli/root.ts finds it: --root (given), TSBUILD_ROOT, root's default, XDG. */
static int default_root(char *out, size_t n)
{
    const char *v = getenv("TSBUILD_ROOT");
    if (v && *v) return snprintf(out, n, "%s", v) < (int)n ? 0 : -1;
    if (getuid() == 0) return snprintf(out, n, "/var/lib/tsbuild") < (int)n ? 0 : -1;
    v = getenv("XDG_DATA_HOME");
    if (v && *v) return snprintf(out, n, "%s/tsbuild", v) < (int)n ? 0 : -1;
    v = getenv("HOME");
    if (v && *v) return snprintf(out, n, "%s/.local/share/tsbuild", v) < (int)n ? 0 : -1;
    return -1;
}

/* `ino:mode:uid:gid:size:mtime_ns:ctime_ns`, or "-" when the path is not there. */
static void sig_of(int ok, const struct stat *st, char *out, size_t n)
{
    if (!ok) {
        snprintf(out, n, "-");
        return;
    }
    snprintf(out, n, "%llu:%u:%u:%u:%lld:%lld:%lld", (unsigned long long)st->st_ino, (unsigned)st->st_mode,
             (unsigned)st->st_uid, (unsigned)st->st_gid, (long long)st->st_size,
             (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec,
             (long long)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec);
}

static int sig_matches(const char *path, int follow, const char *want)
{
    struct stat st;
    int ok = (follow ? stat(path, &st) : lstat(path, &st)) == 0;
    if (!ok && errno != ENOENT && errno != ENOTDIR) return 0;
    char got[256];
    sig_of(ok, &st, got, sizeof got);
    return strcmp(got, want) == 0;
}

static int read_file(const char *path, struct buf *b)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char chunk[65536];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 || (r > 0 && buf_add(b, chunk, (size_t)r) < 0)) {
            close(fd);
            return -1;
        }
        if (r == 0) break;
    }
    close(fd);
    return 0;
}

static int write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The next NUL-terminated string of the record at *at, or NULL past its end. */
static const char *next_str(const struct buf *rec, size_t *at)
{
    if (*at >= rec->len) return NULL;
    const char *s = rec->data + *at;
    const char *end = memchr(s, '\0', rec->len - *at);
    if (!end) return NULL;
    *at += (size_t)(end - s) + 1;
    return s;
}

static int debug_replay(void)
{
    const char *v = getenv("TSBUILD_DEBUG");
    if (!v) return 0;
    for (const char *p = v; *p;) {
        size_t n = strcspn(p, ",");
        if (n == 6 && strncmp(p, "replay", 6) == 0) return 1;
        p += n + (p[n] == ',');
    }
    return 0;
}

/* Checks the record's entries from `at`; with `act`, performs its writes instead. */
static int walk_entries(const struct buf *rec, size_t at, const char *script_dir, int act)
{
    const char *tag, *a, *b;
    while ((tag = next_str(rec, &at)) != NULL) {
        a = next_str(rec, &at);
        b = next_str(rec, &at);
        if (!a || !b) return 0;
        if (!act) {
            if (strcmp(tag, "tool") == 0) {
                char main_bundle[PATH_MAX];
                if (snprintf(main_bundle, sizeof main_bundle, "%s/tsbuild-main.cjs", script_dir) >= (int)sizeof main_bundle) return 0;
                if (!sig_matches(main_bundle, 1, a)) return 0;
            } else if (strcmp(tag, "mode") == 0) {
                if (strcmp(a, "auto") == 0 && isatty(2)) return 0;
            } else if (strcmp(tag, "S") == 0 || strcmp(tag, "L") == 0) {
                if (!sig_matches(a, tag[0] == 'S', b)) return 0;
            } else if (strcmp(tag, "R") == 0) {
                char real[PATH_MAX];
                if (!realpath(a, real) || strcmp(real, b) != 0) return 0;
            } else if (strcmp(tag, "I") != 0 && strcmp(tag, "O") != 0 && strcmp(tag, "E") != 0) {
                return 0; /* an entry this helper does not know: not ours to replay */
            }
            continue;
        }
        if (act == 1 && tag[0] == 'I' && tag[1] == '\0') {
            int fd = open(a, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
            if (fd < 0) return 0;
            int bad = write_all(fd, b, strlen(b)) < 0;
            if (close(fd) < 0 || bad) return 0;
        }
        if (act == 2 && tag[0] == 'E' && tag[1] == '\0') write_all(2, a, strlen(a));
        if (act == 3 && tag[0] == 'O' && tag[1] == '\0') write_all(1, a, strlen(a));
    }
    return 1;
}

/* 1 if `args` (what follows the script) is a fully cached build that was replayed. */
static int try_replay(const char *script, int argc, char **args)
{
    const char *off = getenv("TSBUILD_REPLAY");
    if (off && strcmp(off, "off") == 0) return 0;
    char root[PATH_MAX];
    int i = 0;
    const char *given = NULL;
    while (i < argc) {
        if (strcmp(args[i], "--root") == 0 && i + 1 < argc) {
            given = args[i + 1];
            i += 2;
        } else if (strncmp(args[i], "--root=", 7) == 0) {
            given = args[i] + 7;
            i += 1;
        } else {
            break;
        }
    }
    if (given) {
        if (snprintf(root, sizeof root, "%s", given) >= (int)sizeof root) return 0;
    } else if (default_root(root, sizeof root) < 0) {
        return 0;
    }
    /* `build ...`, or the implicit build `tsbuild -t NAME DIR` (a first word that is an option) */
    if (i >= argc) return 0;
    if (strcmp(args[i], "build") == 0) {
        i++;
    } else if (args[i][0] != '-' || strcmp(args[i], "-h") == 0 || strcmp(args[i], "--help") == 0 ||
               strcmp(args[i], "--version") == 0) {
        return 0;
    }
    for (int j = i; j < argc; j++)
        if (strcmp(args[j], "--help") == 0 || strcmp(args[j], "-h") == 0) return 0;

    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return 0;
    size_t nenv = 0;
    for (char **e = environ; *e; e++) nenv++;
    char **env = calloc(nenv + 1, sizeof *env);
    if (!env) return 0;
    size_t kept = 0;
    for (char **e = environ; *e; e++)
        if (strchr(*e, '=') && !is_volatile(*e)) env[kept++] = *e;
    qsort(env, kept, sizeof *env, cmp_str);

    struct buf key = {0}, rec = {0};
    char count[32];
    int ok = buf_str(&key, MAGIC) == 0 && buf_str(&key, root) == 0 && buf_str(&key, cwd) == 0;
    snprintf(count, sizeof count, "%d", argc - i);
    ok = ok && buf_str(&key, count) == 0;
    for (int j = i; ok && j < argc; j++) ok = buf_str(&key, args[j]) == 0;
    snprintf(count, sizeof count, "%zu", kept);
    ok = ok && buf_str(&key, count) == 0;
    for (size_t j = 0; ok && j < kept; j++) ok = buf_str(&key, env[j]) == 0;
    free(env);

    int replayed = 0;
    if (ok) {
        uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 of the key, as cli/build-replay.ts */
        for (size_t j = 0; j < key.len; j++) h = (h ^ (unsigned char)key.data[j]) * 0x100000001b3ULL;
        char path[PATH_MAX];
        char script_dir[PATH_MAX];
        const char *slash = strrchr(script, '/');
        int dir_ok = slash ? snprintf(script_dir, sizeof script_dir, "%.*s", (int)(slash - script), script) < (int)sizeof script_dir
                           : snprintf(script_dir, sizeof script_dir, ".") > 0;
        if (dir_ok && snprintf(path, sizeof path, "%s/cache/replay/%016llx.rec", root, (unsigned long long)h) < (int)sizeof path &&
            read_file(path, &rec) == 0 && rec.len >= key.len && memcmp(rec.data, key.data, key.len) == 0 &&
            walk_entries(&rec, key.len, script_dir, 0) && walk_entries(&rec, key.len, script_dir, 1)) {
            walk_entries(&rec, key.len, script_dir, 2);
            if (debug_replay()) write_all(2, "tsbuild: replayed a fully cached build\n", 39);
            walk_entries(&rec, key.len, script_dir, 3);
            replayed = 1;
        }
    }
    free(key.data);
    free(rec.data);
    return replayed;
}

int front_main(int argc, char **argv)
{
    const char *script = argv[0];
    if (try_replay(script, argc - 1, argv + 1)) return 0;
    const char *extra = getenv("NODE_EXTRA_CA_CERTS");
    if (extra && *extra) {
        setenv("TSBUILD_EXTRA_CA_CERTS", extra, 1);
        unsetenv("NODE_EXTRA_CA_CERTS");
    }
    char **nargv = calloc((size_t)argc + 2, sizeof *nargv);
    if (!nargv) return EXIT_NOT_FOUND;
    nargv[0] = "node";
    for (int i = 0; i < argc; i++) nargv[i + 1] = argv[i];
    execvp("node", nargv);
    fprintf(stderr, "tsbuild: cannot run node: %s\n", strerror(errno));
    return EXIT_NOT_FOUND;
}
