/*
 * `tsbuild-helper --link PATH`: give the unnamed file open on fd 3 (made with O_TMPFILE by
 * cli/output-file.ts) the name PATH, so that `save -o PATH` killed at any instant leaves
 * either nothing or the complete file. Node has no linkat(AT_SYMLINK_FOLLOW), which is the
 * one way to name such a file without CAP_DAC_READ_SEARCH (open(2), O_TMPFILE). An existing
 * PATH is replaced by rename from a sibling name, so PATH is always the old or the new file.
 * Exit 0, or 1 with one line on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"

static int link_fd(const char *path)
{
    return linkat(AT_FDCWD, "/proc/self/fd/3", AT_FDCWD, path, AT_SYMLINK_FOLLOW);
}

int link_main(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: tsbuild-helper --link PATH (the file open on fd 3)\n");
        return 1;
    }
    const char *path = argv[0];
    if (link_fd(path) == 0) return 0;
    if (errno != EEXIST) {
        int err = errno;
        fprintf(stderr, "link %s: %s\n", path, strerror(err));
        return 1;
    }
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tsbuild-link-%d", path, (int)getpid()) >= (int)sizeof tmp) {
        fprintf(stderr, "link %s: %s\n", path, strerror(ENAMETOOLONG));
        return 1;
    }
    if (link_fd(tmp) < 0 || rename(tmp, path) < 0) {
        int err = errno;
        unlink(tmp);
        fprintf(stderr, "link %s: %s\n", path, strerror(err));
        return 1;
    }
    return 0;
}
