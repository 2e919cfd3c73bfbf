/*
 * The key of a build command and the record file it names, byte for byte as
 * cli/replay-key.ts makes them (test/e2e/replay-key.test.ts compares the two):
 * MAGIC, root, cwd, N, N arguments after the verb, M, M environment entries (sorted
 * bytewise, volatile ones left out), each NUL-terminated; the file is
 * `<root>/cache/replay/<FNV-1a 64 of those bytes, 16 hex digits>.rec`.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "front.h"
#include "replay-key.gen.h" /* REPLAY_MAGIC, REPLAY_DIR, FNV_*, VOLATILE_ENV: from cli/replay-key.ts */

extern char **environ;

static int is_volatile(const char *entry)
{
    for (size_t i = 0; i < sizeof VOLATILE_ENV / sizeof VOLATILE_ENV[0]; i++)
        if (strncmp(entry, VOLATILE_ENV[i], strlen(VOLATILE_ENV[i])) == 0) return 1;
    return 0;
}

/*
 * 1 if `s` is UTF-8 that Node reads as it is: no stray or truncated sequence, overlong form,
 * surrogate or code point past U+10FFFF. Node turns those into U+FFFD, so the key it wrote
 * holds other bytes than these: no key is better than one that never matches.
 */
static int is_utf8(const char *s)
{
    static const uint32_t least[] = {0, 0x80, 0x800, 0x10000};
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n;
        uint32_t cp;
        if (*p < 0x80) {
            p++;
            continue;
        } else if ((*p & 0xe0) == 0xc0) {
            n = 1, cp = *p & 0x1f;
        } else if ((*p & 0xf0) == 0xe0) {
            n = 2, cp = *p & 0x0f;
        } else if ((*p & 0xf8) == 0xf0) {
            n = 3, cp = *p & 0x07;
        } else {
            return 0;
        }
        for (int i = 1; i <= n; i++) { /* a NUL fails this test before anything past it is read */
            if ((p[i] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        p += n + 1;
    }
    return 1;
}

/* A key string: refused (-1) unless it reads the same to Node. */
static int key_str(struct buf *key, const char *s)
{
    return is_utf8(s) ? buf_str(key, s) : -1;
}

/* The store root as cli/root.ts finds it when --root is not given: TSBUILD_ROOT, root's
 * default, XDG_DATA_HOME, HOME (Node would ask the password database without HOME: no replay). */
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

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The environment part of the key: M, then the M entries, sorted. */
static int key_env(struct buf *key)
{
    size_t nenv = 0;
    for (char **e = environ; *e; e++) nenv++;
    char **env = calloc(nenv + 1, sizeof *env);
    if (!env) return -1;
    size_t kept = 0;
    for (char **e = environ; *e; e++)
        if (strchr(*e, '=') && !is_volatile(*e)) env[kept++] = *e;
    qsort(env, kept, sizeof *env, cmp_str); /* strcmp compares as unsigned char: bytewise, as Buffer.compare */
    char count[32];
    snprintf(count, sizeof count, "%zu", kept);
    int ok = buf_str(key, count) == 0;
    for (size_t j = 0; ok && j < kept; j++) ok = key_str(key, env[j]) == 0;
    free(env);
    return ok ? 0 : -1;
}

int key_make(int argc, char **args, struct buf *key, char *path, size_t path_len)
{
    const char *off = getenv("TSBUILD_REPLAY");
    if (off && strcmp(off, "off") == 0) return -1;
    /* Global options come before the verb (cli/root.ts splitGlobals). */
    const char *given = NULL;
    int i = 0;
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
    char root[PATH_MAX];
    if (given ? snprintf(root, sizeof root, "%s", given) >= (int)sizeof root : default_root(root, sizeof root) < 0) return -1;
    /* `build ...`, or the implicit build `tsbuild -t NAME DIR` (a first word that is an option) */
    if (i >= argc) return -1;
    if (strcmp(args[i], "build") == 0) {
        i++;
    } else if (args[i][0] != '-' || strcmp(args[i], "-h") == 0 || strcmp(args[i], "--help") == 0 ||
               strcmp(args[i], "--version") == 0) {
        return -1;
    }
    for (int j = i; j < argc; j++)
        if (strcmp(args[j], "--help") == 0 || strcmp(args[j], "-h") == 0) return -1;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return -1;

    char count[32];
    snprintf(count, sizeof count, "%d", argc - i);
    int ok = buf_str(key, REPLAY_MAGIC) == 0 && key_str(key, root) == 0 && key_str(key, cwd) == 0 && buf_str(key, count) == 0;
    for (int j = i; ok && j < argc; j++) ok = key_str(key, args[j]) == 0;
    if (!ok || key_env(key) < 0) return -1;

    uint64_t h = FNV_OFFSET;
    for (size_t j = 0; j < key->len; j++) h = (h ^ (unsigned char)key->data[j]) * FNV_PRIME;
    int n = snprintf(path, path_len, "%s/%s/%016llx.rec", root, REPLAY_DIR, (unsigned long long)h);
    return n >= 0 && (size_t)n < path_len ? 0 : -1;
}
