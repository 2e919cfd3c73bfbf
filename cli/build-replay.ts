import { fstatSync, lstatSync, readFileSync, realpathSync, statSync, writeFileSync, writeSync, type Stats } from 'node:fs';
import { join } from 'node:path';
// Direct files, not the folders' index.ts: this module runs before the main bundle is
// loaded, and those indexes pull in node:crypto and the rest of the store.
import { projectRoot } from '../common/paths.js';
import { REF_NAME } from '../store/index-names.js';
import { splitGlobals } from './root.js';

/**
 * Replay of a fully cached build. A build whose every step came from the cache leaves a
 * record of everything its result depended on: its arguments, working directory and
 * environment; the stat of the Dockerfile, of the .dockerignore candidates and of every
 * path its context walks looked at; the manifest each base-image name resolved to and each
 * tag points at; and the text it printed. When all of that is unchanged the next run of the
 * same command prints the same text and stops, without loading the main program or the
 * store (tsbuild's launcher, cli/launch.ts, tries this first). Anything that differs, or is
 * missing, means the normal build runs. `prune` drops every record (the cache records the
 * build relied on may be gone); TSBUILD_REPLAY=off turns replay off.
 */

const VERSION = 1;
/** Variables that never change a build's result, left out of the key. */
const VOLATILE_ENV = new Set(['_', 'OLDPWD', 'TSBUILD_DEBUG']);
/** A path changed this recently may change again within the clock's resolution: no record. */
const RACY_MS = 1000;
/** The program the record was made by: any rebuild of tsbuild invalidates every record. */
const MAIN_BUNDLE = join(projectRoot, 'dist', 'tsbuild-main.cjs');

type Sig = string | null;

interface ReplayRecord {
  v: number;
  key: string;
  tool: Sig;
  /** Paths looked at without following symlinks (context walks), and with (Dockerfile, ignore files, the context). */
  lstat: [string, Sig][];
  stat: [string, Sig][];
  /** The context directory's real path. */
  real: [string, string][];
  /** index.json names and the manifest digest each must point at (base images and tags). */
  refs: [string, string][];
  /** `auto`: printed as plain text because stderr was not a terminal; it must not be one now. */
  mode: 'plain' | 'quiet' | 'auto';
  stdout: string;
  stderr: string;
  iidfile?: [string, string];
}

function sigOf(st: Stats | undefined): Sig {
  return st ? `${st.dev}:${st.ino}:${st.mode}:${st.uid}:${st.gid}:${st.size}:${st.mtimeMs}:${st.ctimeMs}` : null;
}

function quietly<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

function toolSignature(): Sig {
  return sigOf(quietly(() => statSync(MAIN_BUNDLE)));
}

/** The key text of a build command: store, arguments after the verb, directory, environment. */
export function replayKey(root: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): string {
  const vars = Object.entries(env)
    .filter((e): e is [string, string] => e[1] !== undefined && !VOLATILE_ENV.has(e[0]))
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return JSON.stringify({ v: VERSION, root, args, cwd, env: vars });
}

/** cyrb53: a file name for a key (the record holds the whole key, compared exactly). */
function nameOf(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 >>> 0).toString(16).padStart(8, '0') + (h1 >>> 0).toString(16).padStart(8, '0');
}

function recordPath(root: string, key: string): string {
  return join(root, 'cache', 'replay', `${nameOf(key)}.json`);
}

/** Which manifest each name in `<root>/oci/index.json` points at. */
function indexRefs(root: string): Map<string, string> {
  const index = JSON.parse(readFileSync(join(root, 'oci', 'index.json'), 'utf8')) as {
    manifests?: { digest: string; annotations?: Record<string, string> }[];
  };
  const out = new Map<string, string>();
  for (const m of index.manifests ?? []) {
    const name = m.annotations?.[REF_NAME];
    if (name !== undefined) out.set(name, m.digest);
  }
  return out;
}

/** Collects what a build depends on while it runs; `save` writes the record if the build qualifies. */
export class ReplayRecorder {
  private readonly lstats = new Map<string, Sig>();
  private readonly stats = new Map<string, Sig>();
  private readonly reals = new Map<string, string>();
  private readonly refs = new Map<string, string>();
  private newest = 0;
  /** Set when something happened that a replay would not repeat (a pull, a step that ran). */
  spoiled = false;

  private note(st: Stats | undefined): Sig {
    if (st) this.newest = Math.max(this.newest, st.mtimeMs, st.ctimeMs);
    return sigOf(st);
  }

  /** A context walk's lstat (a planner StatObserver). */
  observe = (absPath: string, st: Stats | undefined): void => {
    this.lstats.set(absPath, this.note(st));
  };

  /** A path read by following symlinks (the Dockerfile, an ignore file, the context directory). */
  follow(path: string): void {
    this.stats.set(path, this.note(quietly(() => statSync(path))));
  }

  realPath(path: string): void {
    const real = quietly(() => realpathSync(path));
    if (real === undefined) this.spoiled = true;
    else this.reals.set(path, real);
  }

  /** `name` (a normalised name in index.json) must still point at `manifestDigest`. */
  ref(name: string, manifestDigest: string): void {
    this.refs.set(name, manifestDigest);
  }

  /**
   * The record to write (path and text) if the build qualifies: nothing it looked at
   * changed too recently to be told apart from a later change, and tsbuild is bundled.
   */
  record(root: string, key: string, out: Pick<ReplayRecord, 'mode' | 'stdout' | 'stderr' | 'iidfile'>): { path: string; text: string } | undefined {
    if (this.spoiled || this.newest > Date.now() - RACY_MS) return undefined;
    const tool = toolSignature();
    if (tool === null) return undefined;
    const rec: ReplayRecord = {
      v: VERSION,
      key,
      tool,
      lstat: [...this.lstats],
      stat: [...this.stats],
      real: [...this.reals],
      refs: [...this.refs],
      ...out,
    };
    return { path: recordPath(root, key), text: JSON.stringify(rec) };
  }
}

/**
 * Whether `fd` may be a terminal: a character device other than /dev/null and its kin
 * (major 1). Cheaper than node:tty's isatty, which loads ~7 ms of modules; a wrong "maybe"
 * only costs a replay.
 */
function mayBeTerminal(fd: number): boolean {
  const st = quietly(() => fstatSync(fd));
  return st === undefined || (st.isCharacterDevice() && ((st.rdev >> 8) & 0xfff) !== 1);
}

function unchanged(rec: ReplayRecord, root: string): boolean {
  if (rec.tool !== toolSignature()) return false;
  if (rec.mode === 'auto' && mayBeTerminal(2)) return false;
  for (const [p, s] of rec.stat) if (sigOf(quietly(() => statSync(p))) !== s) return false;
  for (const [p, s] of rec.lstat) if (sigOf(quietly(() => lstatSync(p))) !== s) return false;
  for (const [p, r] of rec.real) if (quietly(() => realpathSync(p)) !== r) return false;
  if (rec.refs.length > 0) {
    const refs = quietly(() => indexRefs(root));
    if (!refs) return false;
    for (const [name, digest] of rec.refs) if (refs.get(name) !== digest) return false;
  }
  return true;
}

function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  for (let off = 0; off < buf.length; ) {
    try {
      off += writeSync(fd, buf, off);
    } catch (e) {
      // A non-blocking pipe that is full: wait for the reader. Any other error: stop writing.
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return;
    }
  }
}

/**
 * Replay `tsbuild [--root R] [build] ARGS` if it is a fully cached build whose inputs are
 * unchanged: prints what it printed and returns its exit code (0); undefined otherwise.
 */
export function tryReplay(argv: string[], cwd: string, env: NodeJS.ProcessEnv): number | undefined {
  if (env.TSBUILD_REPLAY === 'off') return undefined;
  const { root, rest } = splitGlobals(argv, env);
  // `build …`, or the implicit build `tsbuild -t NAME DIR` (a first word that is an option).
  const args = rest[0] === 'build' ? rest.slice(1) : rest[0]?.startsWith('-') && !['-h', '--help', '--version'].includes(rest[0]) ? rest : undefined;
  if (!args || args.includes('--help') || args.includes('-h')) return undefined;
  const key = replayKey(root, args, cwd, env);
  const rec = quietly(() => JSON.parse(readFileSync(recordPath(root, key), 'utf8')) as ReplayRecord);
  if (!rec || rec.v !== VERSION || rec.key !== key || !unchanged(rec, root)) return undefined;
  // An --iidfile that cannot be written: the normal build says why.
  if (rec.iidfile && quietly(() => writeFileSync(rec.iidfile![0], rec.iidfile![1]) ?? true) === undefined) return undefined;
  writeAll(2, rec.stderr);
  if (env.TSBUILD_DEBUG?.split(',').includes('replay')) writeAll(2, 'tsbuild: replayed a fully cached build\n');
  writeAll(1, rec.stdout);
  return 0;
}
