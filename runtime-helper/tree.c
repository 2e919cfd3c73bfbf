/*
 * After a RUN step's command ended: every entry below the upper dir with its lstat and
 * extended attributes, in one file that executor/snapshot.ts reads (spec key
 * `tree=DIR<TAB>OUT`). The snapshot then needs no lstat per entry from Node and no
 * getfattr process: this walk does both in one pass, in C.
 *
 * OUT holds NUL-terminated fields: "tsbuild-tree-1", then per entry
 *   PATH (relative to DIR)  MODE  UID  GID  SIZE  MTIME_SEC  MTIME_NSEC  NLINK  DEV  INO  RDEV
 *   LINK_TARGET ("" unless a symlink)  N  then N times: XATTR_NAME  HEX_VALUE
 * (numbers in decimal, MTIME_SEC perhaps negative, MODE with its type bits), then "end".
 * A file without "end" was not finished: the reader walks the directory itself instead.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "helper.h"

static FILE *out;
static size_t prefix;
static int failed;

static void field(const char *s) { fwrite(s, 1, strlen(s) + 1, out); }

static void number(unsigned long long n)
{
    char b[24];
    char *p = b + sizeof b;
    *--p = '\0';
    do *--p = (char)('0' + n % 10); while ((n /= 10) != 0);
    fwrite(p, 1, (size_t)(b + sizeof b - p), out);
}

static void signed_number(long long n)
{
    if (n < 0) {
        fputc('-', out);
        number(0ULL - (unsigned long long)n);
    } else number((unsigned long long)n);
}

static void xattrs(const char *path)
{
    char names[65536];
    ssize_t len = llistxattr(path, names, sizeof names);
    if (len < 0) len = 0; /* no support on this filesystem: none */
    unsigned n = 0;
    for (ssize_t i = 0; i < len; i += (ssize_t)strlen(names + i) + 1) n++;
    number(n);
    static unsigned char value[65536];
    static char hex[2 * sizeof value + 1];
    for (ssize_t i = 0; i < len; i += (ssize_t)strlen(names + i) + 1) {
        ssize_t v = lgetxattr(path, names + i, value, sizeof value);
        if (v < 0) {
            failed = 1; /* listed but unreadable: let the reader fall back */
            v = 0;
        }
        for (ssize_t j = 0; j < v; j++) {
            hex[2 * j] = "0123456789abcdef"[value[j] >> 4];
            hex[2 * j + 1] = "0123456789abcdef"[value[j] & 15];
        }
        hex[2 * v] = '\0';
        field(names + i);
        field(hex);
    }
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)type;
    if (ftw->level == 0) return 0;
    field(path + prefix);
    number(st->st_mode);
    number(st->st_uid);
    number(st->st_gid);
    number((unsigned long long)st->st_size);
    signed_number((long long)st->st_mtim.tv_sec);
    number((unsigned long long)st->st_mtim.tv_nsec);
    number(st->st_nlink);
    number(st->st_dev);
    number(st->st_ino);
    number(st->st_rdev);
    char target[4097] = "";
    if (S_ISLNK(st->st_mode)) {
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n < 0) failed = 1;
        else target[n] = '\0';
    }
    field(target);
    xattrs(path);
    return failed ? 1 : 0;
}

int tree_dump(const char *dir, const char *path)
{
    out = fopen(path, "we");
    if (!out) return -1; /* the reader finds no file and walks itself */
    static char buf[1 << 20];
    setvbuf(out, buf, _IOFBF, sizeof buf);
    prefix = strlen(dir) + 1;
    field("tsbuild-tree-1");
    failed = 0;
    int ok = nftw(dir, visit, 64, FTW_PHYS) == 0 && !failed;
    if (ok) field("end");
    if (fclose(out) != 0) ok = 0;
    return ok ? 0 : -1;
}
