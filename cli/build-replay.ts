import { realpathSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../common/index.js';
import { joined, replayRecordPath } from './replay-key.js';
import { StatLog, sigOf } from './stat-log.js';

export { replayKey } from './replay-key.js';

/**
 * Records for the replay of fully cached builds. A build whose every step came from the
 * cache leaves a record of everything its result depended on: its store, directory,
 * arguments and environment (the key); the stat of the Dockerfile, of the .dockerignore
 * candidates, of every path its context walks looked at and of the store's index.json
 * (where base names and tags point); the tsbuild bundle that made it; and the text it
 * printed. The `tsbuild` launcher hands every command to the front door first (front-door/,
 * a small static C program), which finds the record for its key, checks all of it, and
 * when nothing changed prints that text and exits — no Node at all. Anything that differs,
 * or is missing, and the front door runs Node with the normal build.
 * `prune` drops every record; TSBUILD_REPLAY=off turns replay off.
 *
 * The record file, `<root>/cache/replay/<16 hex digits>.rec`, is a sequence of
 * NUL-terminated strings, read by front-door/record.c:
 *   the key:  MAGIC, root, cwd, N, N arguments, M, M environment entries NAME=VALUE
 *             (sorted bytewise, without VOLATILE_ENV; see replay-key.ts);
 *   entries:  triples TAG, A, B:
 *     tool  SIG  ""     stat of dist/tsbuild-main.cjs
 *     mode  plain|quiet|auto  ""   auto: stderr must not be a terminal
 *     S     PATH SIG    stat (symlinks followed) of PATH; SIG "-": PATH must not exist
 *     L     PATH SIG    lstat of PATH
 *     R     PATH REAL   realpath of PATH
 *     I     PATH TEXT   write TEXT to PATH (--iidfile)
 *     O     TEXT ""     print TEXT on stdout;  E  TEXT ""  on stderr
 * SIG is `ino:mode:uid:gid:size:mtime_ms:ctime_ms`, uid and gid `*` (any) when recorded in a
 * user namespace (stat-log.ts sigOf). The times are Node's Stats' (sec * 1e3 + nsec / 1e6, a double, as
 * written by JavaScript: it reads back as the same double), so the walk's own lstats are the
 * record's: none is made twice. A change after the build sets a ctime at least RACY_MS past
 * the recorded one, far more than a double's 0.25 µs at today's times. The file name is the
 * FNV-1a 64-bit hash of the key's bytes (NULs included).
 */

/**
 * A path whose ctime is this close to the build's start may have changed within one tick
 * of the clock that stamps ctimes (≤ 10 ms): a later change could then keep the same
 * ctime. Such a build is not recorded.
 */
const RACY_MS = 50;
/** The program the record was made by: any rebuild of tsbuild invalidates every record. */
const MAIN_BUNDLE = join(projectRoot, 'dist', 'tsbuild-main.cjs');

/**
 * The build options a replay may repeat: each one's whole effect on a fully cached build
 * follows from the key (its value is an argument) and the record (the Dockerfile's stat,
 * the iidfile write). Anything else, a new option included, is never replayed: --pull,
 * --push and --cache-to/--cache-from talk to registries or folders, --secret and --ssh
 * read files and sockets, --no-cache and --no-cache-filter run steps, and a build's own
 * --root is not the root the front door looks in.
 */
const REPLAYABLE_OPTIONS: ReadonlySet<string> = new Set([
  'tag', 'file', 'build-arg', 'target', 'network', 'progress', 'quiet', 'label', 'iidfile', 'platform', 'allow',
]);

/** Whether a build given these options (the names of those given) may be replayed. */
export function isReplayable(given: Iterable<string>): boolean {
  for (const name of given) if (!REPLAYABLE_OPTIONS.has(name)) return false;
  return true;
}

function quietly<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** Collects what a build depends on while it runs; `record` gives the file to write if it qualifies. */
export class ReplayRecorder {
  /** Before anything is read: a path changed since (or just before) is not trusted. */
  private readonly startMs = Date.now();
  /** What the context walks' lstats saw. */
  private readonly lstats = new StatLog();
  private readonly stats = new Set<string>();
  private readonly reals = new Map<string, string>();
  /** Set when something happened that a replay would not repeat (a pull). */
  spoiled = false;
  /**
   * index.json as the build found it. The store only ever replaces it by rename (a new
   * inode each time), so a sig that is the same at the end means nobody moved a name in
   * between, however recently it was written (it is exempt from the RACY_MS rule, which
   * would otherwise skip most builds that follow a tagging build).
   */
  private readonly indexPath: string;
  private readonly indexAtStart: string;

  /** `mode`: the build's progress, `auto` meaning plain text because stderr is not a terminal. */
  constructor(
    private readonly root: string,
    private readonly mode: 'plain' | 'quiet' | 'auto',
  ) {
    this.indexPath = join(root, 'oci', 'index.json');
    this.indexAtStart = sigOf(quietly(() => statSync(this.indexPath)));
  }

  /** A context walk's lstat (a context StatObserver). */
  observe = (absPath: string, st: Stats | undefined): void => {
    this.lstats.add(absPath, st);
  };

  /** A path read by following symlinks (the Dockerfile, an ignore file, the context directory). */
  follow(path: string): void {
    this.stats.add(path);
  }

  realPath(path: string): void {
    const real = quietly(() => realpathSync(path));
    if (real === undefined) this.spoiled = true;
    else this.reals.set(path, real);
  }

  /**
   * The record (path and bytes), if the build qualifies: nothing it looked at changed since
   * it started (or just before), and tsbuild runs from its bundle.
   */
  record(key: string[], out: { stdout: string; stderr: string; iidfile?: [string, string] }): { path: string; bytes: Buffer } | undefined {
    if (this.spoiled) return undefined;
    let newestMs = -Infinity;
    const sig = (st: Stats | undefined): string => {
      if (st && st.ctimeMs > newestMs) newestMs = st.ctimeMs;
      return sigOf(st);
    };
    const index = sigOf(quietly(() => statSync(this.indexPath)));
    if (index !== this.indexAtStart || index === '-') return undefined;
    const tool = quietly(() => statSync(MAIN_BUNDLE));
    if (!tool) return undefined;
    const entries: string[] = ['tool', sig(tool), '', 'mode', this.mode, ''];
    entries.push('S', this.indexPath, index);
    for (const p of this.stats) entries.push('S', p, sig(quietly(() => statSync(p))));
    this.lstats.forEachSig((p, sig) => entries.push('L', p, sig));
    if (this.lstats.newestCtimeMs > newestMs) newestMs = this.lstats.newestCtimeMs;
    for (const [p, r] of this.reals) entries.push('R', p, r);
    if (out.iidfile) entries.push('I', out.iidfile[0], out.iidfile[1]);
    entries.push('O', out.stdout, '', 'E', out.stderr, '');
    if (newestMs > this.startMs - RACY_MS) return undefined;
    if (entries.some((s) => s.includes('\0'))) return undefined;
    return { path: replayRecordPath(this.root, key), bytes: Buffer.concat([joined(key), joined(entries)]) };
  }
}
