/*
 * tsbuild-front main: replay a fully cached build, or run Node. See front.h.
 * (`tsbuild-front --key ARGS...` prints the record path and key of `tsbuild ARGS...`, for
 * test/e2e/replay-key.test.ts.)
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "front.h"

static int print_key(int argc, char **args)
{
    struct buf key = {0};
    char path[PATH_MAX];
    if (key_make(argc, args, &key, path, sizeof path) < 0) return 1;
    int bad = write_all(1, path, strlen(path)) < 0 || write_all(1, "\n", 1) < 0 || write_all(1, key.data, key.len) < 0;
    free(key.data);
    return bad;
}

/* 1 if `args` (what follows the script) is a fully cached build that was replayed. */
static int replay(const char *script, int argc, char **args)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(script, '/');
    int n = slash ? snprintf(dir, sizeof dir, "%.*s", (int)(slash - script), script) : snprintf(dir, sizeof dir, ".");
    if (n < 0 || n >= (int)sizeof dir) return 0;
    struct buf key = {0};
    char path[PATH_MAX];
    int replayed = key_make(argc, args, &key, path, sizeof path) == 0 && record_replay(&key, path, dir);
    free(key.data);
    return replayed;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--key") == 0) return print_key(argc - 2, argv + 2);
    if (argc < 2) {
        fprintf(stderr, "usage: tsbuild-front SCRIPT [ARGS...]\n");
        return 2;
    }
    if (replay(argv[1], argc - 2, argv + 2)) return 0;
    /* Node reads NODE_EXTRA_CA_CERTS at start-up; tsbuild needs it only for TLS to a
     * registry (cli/launch.ts hands it back, registry/http.ts uses it). */
    const char *extra = getenv("NODE_EXTRA_CA_CERTS");
    if (extra && *extra) {
        setenv("TSBUILD_EXTRA_CA_CERTS", extra, 1);
        unsetenv("NODE_EXTRA_CA_CERTS");
    }
    /* No V8 flags: any flag makes V8 refuse the code cache of Node's own modules. */
    argv[0] = "node";
    execvp("node", argv);
    fprintf(stderr, "tsbuild: cannot run node: %s\n", strerror(errno));
    return EXIT_NO_NODE;
}
