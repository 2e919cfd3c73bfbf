/*
 * A replay record, checked then acted on (the format: cli/build-replay.ts). After the key,
 * the record is triples TAG A B: `tool`, `mode`, `S`, `L`, `R` are checked, every one of
 * them before anything is done; then `I` files are written, `E` text goes to stderr and
 * `O` text to stdout, in that order. A tag this program does not know means no replay.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "front.h"

/* A time as node's Stats has it in milliseconds: sec * 1e3 + nsec / 1e6, in doubles. */
static double ms_of(const struct timespec *t)
{
    return (double)t->tv_sec * 1e3 + (double)t->tv_nsec / 1e6;
}

/* The unsigned number at *p, then `sep`; 0 when it is not there. */
static int read_u(const char **p, char sep, unsigned long long *out)
{
    char *end;
    if (**p < '0' || **p > '9') return 0;
    errno = 0;
    *out = strtoull(*p, &end, 10);
    if (errno != 0 || *end != sep) return 0;
    *p = end + (sep != '\0');
    return 1;
}

/* An owner field: `*` (any: recorded in rootless mode's user namespace, where owners read
 * otherwise; cli/stat-log.ts sigOf), else the id `id`. */
static int owner_matches(const char **p, char sep, unsigned long long id)
{
    unsigned long long want;
    if (**p == '*' && (*p)[1] == sep) {
        *p += 2;
        return 1;
    }
    return read_u(p, sep, &want) && want == id;
}

/* A time written by JavaScript (its shortest form, which strtod reads back as the same double), then `sep`. */
static int time_matches(const char **p, char sep, double ms)
{
    char *end;
    if (**p != '-' && (**p < '0' || **p > '9')) return 0;
    double want = strtod(*p, &end);
    if (*end != sep || want != ms) return 0;
    *p = end + (sep != '\0');
    return 1;
}

/* Whether `path` still has the signature `want`: `ino:mode:uid:gid:size:mtime_ms:ctime_ms`, or "-" when it was not there. */
static int sig_matches(const char *path, int follow, const char *want)
{
    struct stat st;
    int ok = (follow ? stat(path, &st) : lstat(path, &st)) == 0;
    if (!ok) return (errno == ENOENT || errno == ENOTDIR) && strcmp(want, "-") == 0;
    const char *p = want;
    unsigned long long ino, mode, size;
    return read_u(&p, ':', &ino) && ino == (unsigned long long)st.st_ino && read_u(&p, ':', &mode) && mode == (unsigned long long)st.st_mode &&
           owner_matches(&p, ':', st.st_uid) && owner_matches(&p, ':', st.st_gid) && read_u(&p, ':', &size) &&
           size == (unsigned long long)st.st_size && time_matches(&p, ':', ms_of(&st.st_mtim)) && time_matches(&p, '\0', ms_of(&st.st_ctim));
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

/* 1 if every check from `at` on still holds. */
static int check_entries(const struct buf *rec, size_t at, const char *script_dir)
{
    const char *tag, *a, *b;
    while ((tag = next_str(rec, &at)) != NULL) {
        a = next_str(rec, &at);
        b = next_str(rec, &at);
        if (!a || !b) return 0;
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
            return 0; /* an entry this program does not know: not ours to replay */
        }
    }
    return 1;
}

/* Performs the entries tagged `want` from `at` on: 1, or 0 when a file could not be written. */
static int act_entries(const struct buf *rec, size_t at, char want)
{
    const char *tag, *a, *b;
    while ((tag = next_str(rec, &at)) != NULL && (a = next_str(rec, &at)) != NULL && (b = next_str(rec, &at)) != NULL) {
        if (tag[0] != want || tag[1] != '\0') continue;
        if (want == 'I') {
            int fd = open(a, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
            if (fd < 0) return 0;
            int bad = write_all(fd, b, strlen(b)) < 0;
            if (close(fd) < 0 || bad) return 0;
        } else {
            write_all(want == 'O' ? 1 : 2, a, strlen(a));
        }
    }
    return 1;
}

int record_replay(const struct buf *key, const char *path, const char *script_dir)
{
    struct buf rec = {0};
    int replayed = buf_read_file(&rec, path) == 0 && rec.len >= key->len && memcmp(rec.data, key->data, key->len) == 0 &&
                   check_entries(&rec, key->len, script_dir) && act_entries(&rec, key->len, 'I');
    if (replayed) {
        act_entries(&rec, key->len, 'E');
        if (debug_replay()) write_all(2, "tsbuild: replayed a fully cached build\n", 39);
        act_entries(&rec, key->len, 'O');
    }
    free(rec.data);
    return replayed;
}
