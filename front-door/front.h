/*
 * tsbuild-front: the front door of the `tsbuild` command, `tsbuild-front SCRIPT ARGS...`.
 *
 * dist/tsbuild.cjs (the bin) runs this first. A fully cached build whose record says that
 * nothing it depended on changed is replayed here: its output printed again, exit 0, without
 * starting Node. Anything else, and this execs `node SCRIPT ARGS...`. It is not the runtime
 * helper and shares nothing with it: the helper enters containers, this only reads records.
 *
 * The record format, the key and what is checked are defined by cli/build-replay.ts and
 * cli/replay-key.ts, which write the records; replay-key.gen.h carries the key's constants
 * from there. Every check that cannot be made (a missing file, a malformed record, no HOME)
 * means "no replay", never an error.
 */
#ifndef TSBUILD_FRONT_H
#define TSBUILD_FRONT_H

#include <stddef.h>

#define EXIT_NO_NODE 127 /* as the shell says "not found" */

/* buf.c: a growing byte buffer (the key, the record) and whole-file I/O */
struct buf {
    char *data;
    size_t len, cap;
};
int buf_add(struct buf *b, const void *p, size_t n);
int buf_str(struct buf *b, const char *s); /* the string and its NUL */
int buf_read_file(struct buf *b, const char *path);
int write_all(int fd, const char *s, size_t n);

/* key.c: the key of `ARGS...` and the record file it names, as cli/replay-key.ts makes them.
 * 0, or -1 when this command is never replayed (not a build, replay off, bytes Node would
 * not read as they are). */
int key_make(int argc, char **args, struct buf *key, char *path, size_t path_len);

/* record.c: 1 when the record at `path` matches `key`, all it checks still holds, and its
 * output was printed again; 0 when the build must run. `script_dir` holds tsbuild-main.cjs. */
int record_replay(const struct buf *key, const char *path, const char *script_dir);

#endif
