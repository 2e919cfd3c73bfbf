/*
 * The file metadata Node has no API for: extended attributes and device nodes, for the
 * store's layer extraction, COPY's xattrs and the executor's tree copies (no getfattr,
 * setfattr or mknod on the host). Records are NUL-separated fields; values are hex.
 *
 * `--xattrs-get [-R] PATH`: on stdout, for PATH (and with -R every entry below it, symlinks
 *   not followed) that has xattrs: PATH N, then N times NAME HEX_VALUE. Exit 0, or 1 with
 *   one line on stderr. Entries on a filesystem without xattrs have none.
 * `--xattrs-set`: stdin holds records PATH NAME HEX_VALUE; each is lsetxattr(2)-ed.
 * `--mknod`: stdin holds records PATH TYPE MAJOR MINOR MODE (TYPE c, b or p; MODE octal
 *   permission bits, applied as given by a chmod after mknod, past the umask).
 * Both setters stop at the first failure: exit 1 with "OP PATH: REASON" on stderr.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "helper.h"

#define VALUE_MAX 65536 /* XATTR_SIZE_MAX */

static int get_failed;

static void put_field(const char *s, size_t n)
{
    fwrite(s, 1, n, stdout);
    fputc('\0', stdout);
}

static void put_string(const char *s) { put_field(s, strlen(s)); }

static int dump_one(const char *path)
{
    static char names[VALUE_MAX];
    static unsigned char value[VALUE_MAX];
    static char hex[2 * VALUE_MAX + 1];
    ssize_t len = llistxattr(path, names, sizeof names);
    if (len < 0) {
        if (errno == ENOTSUP) return 0;
        fprintf(stderr, "list xattrs %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (len == 0) return 0;
    unsigned n = 0;
    for (ssize_t i = 0; i < len; i += (ssize_t)strlen(names + i) + 1) n++;
    char count[16];
    snprintf(count, sizeof count, "%u", n);
    put_string(path);
    put_string(count);
    for (ssize_t i = 0; i < len; i += (ssize_t)strlen(names + i) + 1) {
        ssize_t v = lgetxattr(path, names + i, value, sizeof value);
        if (v < 0) {
            fprintf(stderr, "read xattr %s %s: %s\n", path, names + i, strerror(errno));
            return -1;
        }
        for (ssize_t j = 0; j < v; j++) {
            hex[2 * j] = "0123456789abcdef"[value[j] >> 4];
            hex[2 * j + 1] = "0123456789abcdef"[value[j] & 15];
        }
        put_string(names + i);
        put_field(hex, 2 * (size_t)v);
    }
    return 0;
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)ftw;
    if (type == FTW_NS || type == FTW_DNR) {
        fprintf(stderr, "read %s: %s\n", path, strerror(errno ? errno : EACCES));
        get_failed = 1;
        return 1;
    }
    if (dump_one(path) < 0) {
        get_failed = 1;
        return 1;
    }
    return 0;
}

int xattrs_get_main(int argc, char **argv)
{
    int recursive = argc == 2 && strcmp(argv[0], "-R") == 0;
    if (argc != 1 + recursive) {
        fprintf(stderr, "usage: tsbuild-helper --xattrs-get [-R] PATH\n");
        return 1;
    }
    const char *path = argv[recursive];
    static char buf[1 << 16];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    int ok = recursive ? nftw(path, visit, 64, FTW_PHYS) == 0 && !get_failed : dump_one(path) == 0;
    if (fflush(stdout) != 0) ok = 0;
    return ok ? 0 : 1;
}

/* The next NUL-terminated field of stdin into `out` (at most `max` bytes with its NUL):
 * 1, or 0 at a clean end of input before the field, or -1 for a torn or oversized one. */
static int next_field(char *out, size_t max)
{
    size_t n = 0;
    int c;
    while ((c = getchar()) != EOF) {
        if (n + 1 >= max) return -1;
        out[n++] = (char)c;
        if (c == '\0') return 1;
    }
    return n == 0 ? 0 : -1;
}

static int read_record(char **fields, const size_t *sizes, int count)
{
    for (int i = 0; i < count; i++) {
        int r = next_field(fields[i], sizes[i]);
        if (r == 0 && i == 0) return 0;
        if (r != 1) {
            fprintf(stderr, "read records: a torn or oversized record on stdin\n");
            return -1;
        }
    }
    return 1;
}

static int unhex(const char *hex, unsigned char *out, size_t *len)
{
    size_t n = strlen(hex);
    if (n % 2 != 0) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (unsigned char)v;
    }
    *len = n / 2;
    return 0;
}

int xattrs_set_main(void)
{
    static char path[4097], name[256], hex[2 * VALUE_MAX + 1];
    static unsigned char value[VALUE_MAX];
    char *fields[] = {path, name, hex};
    const size_t sizes[] = {sizeof path, sizeof name, sizeof hex};
    int r;
    while ((r = read_record(fields, sizes, 3)) == 1) {
        size_t len;
        if (unhex(hex, value, &len) < 0) {
            fprintf(stderr, "setxattr %s %s: the value is not hex\n", path, name);
            return 1;
        }
        if (lsetxattr(path, name, value, len, 0) < 0) {
            fprintf(stderr, "setxattr %s %s: %s\n", path, name, strerror(errno));
            return 1;
        }
    }
    return r == 0 ? 0 : 1;
}

int mknod_main(void)
{
    char path[4097], type[4], major_s[16], minor_s[16], mode_s[16];
    char *fields[] = {path, type, major_s, minor_s, mode_s};
    const size_t sizes[] = {sizeof path, sizeof type, sizeof major_s, sizeof minor_s, sizeof mode_s};
    int r;
    while ((r = read_record(fields, sizes, 5)) == 1) {
        char *end1, *end2, *end3;
        unsigned long major = strtoul(major_s, &end1, 10), minor = strtoul(minor_s, &end2, 10);
        unsigned long mode = strtoul(mode_s, &end3, 8);
        mode_t kind = !strcmp(type, "c") ? S_IFCHR : !strcmp(type, "b") ? S_IFBLK : !strcmp(type, "p") ? S_IFIFO : 0;
        if (!kind || *end1 || *end2 || *end3 || mode > 07777) {
            fprintf(stderr, "mknod %s: a malformed record (%s %s %s %s)\n", path, type, major_s, minor_s, mode_s);
            return 1;
        }
        if (mknod(path, kind | (mode_t)mode, makedev(major, minor)) < 0) {
            fprintf(stderr, "mknod %s: %s\n", path, strerror(errno));
            return 1;
        }
        if (chmod(path, (mode_t)mode) < 0) {
            fprintf(stderr, "chmod %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    return r == 0 ? 0 : 1;
}
