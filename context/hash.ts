import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import pLimit from 'p-limit';
import { canonicalJson, DigestHasher, digestOf, UserError, type Digest } from '../common/index.js';
import { applyChmod, parseChmod, type Chmod } from './chmod.js';
import { contextMessages } from './messages.js';
import type { SourceEntry, SourceSelection } from './select.js';
import { StatMemo, loadStatMemo } from './stat-memo.js';

export interface HashOptions {
  chown?: { uid: number; gid: number };
  /** --chmod as written (octal or symbolic) or parsed. */
  chmod?: number | string | Chmod;
  memo?: StatMemo;
  /** Filled with each regular file's content digest by relative path (to explain cache misses). */
  fileDigests?: Map<string, Digest>;
}

/**
 * The digest of a selection for a cache key: every entry's path, type, mode and owner as they
 * will be copied (after --chmod/--chown), symlink targets, device numbers and file bytes.
 * Never mtimes, atimes or inodes. Each file is read at most once (and not at all when `memo`
 * knows it unchanged).
 */
export async function hashSelection(sel: SourceSelection, opts: HashOptions = {}): Promise<Digest> {
  const chmod = typeof opts.chmod === 'number' ? parseChmod(opts.chmod.toString(8)) : typeof opts.chmod === 'string' ? parseChmod(opts.chmod) : opts.chmod;
  const memo = opts.memo ?? (await loadStatMemo());
  const files = sel.sources.flatMap((s) => s.entries.filter((e) => e.type === 'file'));
  // Each file's digest at its place in `files`, the order the lines below meet them in.
  const digests: Digest[] = new Array(files.length);
  // Small files one after another, synchronously (see smallFileDigest); large ones streamed, a few at a time.
  const limit = pLimit(4);
  const large: Promise<unknown>[] = [];
  for (let i = 0; i < files.length; i++) {
    const f = files[i];
    // The entry is its own StatKey (size, mtimeMs, ino): no key object a file.
    const known = memo.get(f.absPath, f);
    if (known) digests[i] = known;
    else if (f.size <= SMALL_FILE) digests[i] = remember(memo, f, smallFileDigest(f));
    else large.push(limit(async () => (digests[i] = remember(memo, f, await largeFileDigest(f)))));
  }
  await Promise.all(large);
  if (opts.fileDigests) for (let i = 0; i < files.length; i++) opts.fileDigests.set(files[i].relPath, digests[i]);
  // Each entry's line as canonicalJson would write it (entryLine), hashed a piece at a time:
  // the lines of 10,000 entries do not all live until the end.
  const h = new DigestHasher();
  let piece = '';
  const line = (l: string) => {
    piece += l + '\n';
    if (piece.length >= HASH_PIECE) {
      h.update(Buffer.from(piece));
      piece = '';
    }
  };
  let nextFile = 0;
  for (const s of sel.sources) {
    line(canonicalJson({ source: s.path, parents: s.parentsPath }));
    for (const e of s.entries) {
      const digest = e.type === 'file' ? digests[nextFile++] : undefined;
      line(entryLine(e, applyChmod(chmod, e.mode, e.type === 'dir'), opts.chown?.uid ?? e.uid, opts.chown?.gid ?? e.gid, digest));
    }
  }
  if (piece !== '') h.update(Buffer.from(piece));
  return h.digest();
}

/**
 * `canonicalJson` of an entry's record in the selection digest — `{ p, t, m, u, g, s, l, r, d }`,
 * `s` and `d` for files, `l` for symlinks, `r` for devices — written directly: its keys in
 * sorted order, undefined ones left out (10,000 entries: no object, no sorted copy of each).
 */
export function entryLine(e: SourceEntry, mode: number, uid: number, gid: number, digest: Digest | undefined): string {
  const isFile = e.type === 'file';
  let line = '{';
  if (isFile && digest !== undefined) line += `"d":"${digest}",`;
  line += `"g":${gid},`;
  if (e.linkTarget !== undefined) line += `"l":${JSON.stringify(e.linkTarget)},`;
  line += `"m":${mode},"p":${JSON.stringify(e.subPath)},`;
  if (e.type === 'char' || e.type === 'block') line += `"r":${e.rdev},`;
  if (isFile) line += `"s":${e.size},`;
  return `${line}"t":"${e.type}","u":${uid}}`;
}

/** Characters of lines hashed at a time. */
const HASH_PIECE = 64 * 1024;

/**
 * Files up to this size are read whole with synchronous calls: each asynchronous call is a
 * round trip through libuv's thread pool, and for thousands of small files those round trips,
 * not the reads, are the cost (bench/RESULTS.md, "Measurements behind the code").
 */
const SMALL_FILE = 1 << 20;
const smallBuffer = Buffer.allocUnsafe(SMALL_FILE + 1);

function remember(memo: StatMemo, f: SourceEntry, d: Digest): Digest {
  memo.set(f.absPath, f, d);
  return d;
}

function unreadable(f: SourceEntry, e: unknown): UserError {
  return new UserError('context-io', contextMessages['context-io']('build context', f.relPath, (e as NodeJS.ErrnoException).code ?? String(e)));
}

function smallFileDigest(f: SourceEntry): Digest {
  let fd: number;
  try {
    fd = openSync(f.absPath, 'r');
  } catch (e) {
    throw unreadable(f, e);
  }
  try {
    let got = 0;
    for (;;) {
      const n = readSync(fd, smallBuffer, got, smallBuffer.length - got, got);
      if (n === 0 || (got += n) === smallBuffer.length) break;
    }
    // What the file holds now (a file that changed since its stat is hashed as it is).
    return digestOf(smallBuffer.subarray(0, got));
  } catch (e) {
    throw unreadable(f, e);
  } finally {
    closeSync(fd);
  }
}

async function largeFileDigest(f: SourceEntry): Promise<Digest> {
  try {
    const h = new DigestHasher();
    for await (const chunk of createReadStream(f.absPath)) h.update(chunk as Buffer);
    return h.digest();
  } catch (e) {
    throw unreadable(f, e);
  }
}
