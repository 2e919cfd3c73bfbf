/*
 * `tsbuild-helper --syncfs PATH`: flush the whole filesystem holding PATH (syncfs(2)), once,
 * before the store drops the tar of a layer whose extracted dir must first be durable
 * (store/layer-settle.ts). Node has no syncfs, and coreutils' `sync -f` is a host tool the
 * CLI must not need. Exit 0, or 1 with one line on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"

int syncfs_main(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: tsbuild-helper --syncfs PATH\n");
        return 1;
    }
    int fd = open(argv[0], O_RDONLY | O_CLOEXEC | O_DIRECTORY);
    if (fd < 0 || syncfs(fd) < 0) {
        int err = errno;
        fprintf(stderr, "syncfs %s: %s\n", argv[0], strerror(err));
        return 1;
    }
    close(fd);
    return 0;
}
