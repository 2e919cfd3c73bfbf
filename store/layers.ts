import {
  chmodSync,
  chownSync,
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { DigestHasher, UserError, hexOf, inUserNamespace, ioMessage, isOverlayXattr, noteEntries, overlayXattrPrefix, unreachable, type Digest } from '../common/index.js';
import { publishDir } from './atomic.js';
import { openBlob } from './blobs.js';
import { makeNodes, setXattrs } from './fs-attrs.js';
import { decompressed } from './layer-stream.js';
import type { Descriptor } from './oci-types.js';
import { readTar, type TarBody, type TarEntry, type TarSplitSink } from './tar-read.js';
import { TarSplitRecorder, writeTarSplit } from './tar-split.js';
import { makeTempDir } from './temp.js';
import { splitAgainstDir } from './layer-split.js';
import { waitForLayerExtraction } from './layer-lock.js';
import { lentLayerDir } from './lent-layers.js';

/**
 * Extracted layers `<root>/layers/<diff_id hex>/`: the overlay lower dirs. Each is extracted
 * once into a private temp dir and renamed into place, so a visible layer dir is complete;
 * it is never modified afterwards: once extracted, it is the layer's one copy on disk (its
 * uncompressed tar blob gives way to a tar-split, store/tar-split.ts).
 *
 * Extraction is safe against hostile layers (issue 7, promise 3):
 * - names are cleaned lexically; a name that climbs out with `..` rejects the layer, a
 *   leading `/` is dropped (confined, as tar and Docker do);
 * - nothing is ever created through a symlink: every parent component is lstat-ed and a
 *   symlink parent rejects the layer (the temp dir is private to this process, so the tree
 *   cannot change between the check and the use — the openat-style guarantee);
 * - files are opened O_CREAT|O_EXCL|O_NOFOLLOW after removing whatever was at the path
 *   (duplicates: last wins, like Docker; a file replaced by a dir and vice versa);
 * - hardlinks must name a non-directory extracted earlier in this layer;
 * - whiteouts `.wh.NAME` become overlay whiteouts (char 0/0), `.wh..wh..opq` the opaque
 *   xattr; a whiteout naming `.` or `..` rejects the layer;
 * - device nodes are created only as the host's root (else skipped, like rootless Docker); setuid
 *   bits are kept — they stay inside the layer dir, which is only ever a lower dir;
 * - `trusted.overlay.*` and `user.overlay.*` xattrs from the archive are dropped: they steer
 *   overlayfs (redirect, metacopy) and only the opaque marker is ours to set (`user.` in a
 *   user namespace, where overlay is mounted with `userxattr`).
 * The uncompressed bytes are hashed while extracting; a diff_id mismatch publishes nothing.
 * Node has no mknod/setxattr: devices and xattrs go through the static helper
 * (store/fs-attrs.ts), each batched once per layer.
 */

export function layersDir(root: string): string {
  return join(root, 'layers');
}

export function layerPath(root: string, diffId: Digest): string {
  return join(layersDir(root), hexOf(diffId));
}

const inFlight = new Map<string, Promise<string>>();

/** The extracted dir of layer `diffId`, extracting blob `blob` once if needed. */
export function layerDir(root: string, diffId: Digest, blob: Descriptor, opts: { borrow?: boolean } = {}): Promise<string> {
  const borrowed = opts.borrow && !existsSync(layerPath(root, diffId)) ? lentLayerDir(root, diffId) : undefined;
  if (borrowed) return Promise.resolve(borrowed);
  const key = `${root}\0${diffId}`;
  let p = inFlight.get(key);
  if (!p) {
    p = ensureLayer(root, diffId, blob).finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}

/**
 * Publish `dir` — already in overlay form (whiteouts as 0/0 char devices, opaque xattrs),
 * on the store's filesystem — as the extracted layer of `diffId`, so a RUN's upper dir
 * becomes the next step's lower dir without being extracted again. False when the layer
 * is already there (the caller removes `dir`). Its tar blob then gives way to a tar-split
 * when the dir makes the same tar again (store/layer-split.ts).
 */
export async function adoptLayerDir(root: string, diffId: Digest, dir: string): Promise<boolean> {
  const final = layerPath(root, diffId);
  if (await isDir(final)) return false;
  await mkdir(layersDir(root), { recursive: true });
  if (!(await publishDir(dir, final))) return false;
  await splitAgainstDir(root, diffId);
  return true;
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function ensureLayer(root: string, diffId: Digest, blob: Descriptor): Promise<string> {
  const final = layerPath(root, diffId);
  if (await isDir(final)) return final;
  // A detached extractor of the build that wrote it may be at it (store/extract-detached.ts): its result, not a second copy.
  await waitForLayerExtraction(root, diffId);
  if (await isDir(final)) return final;
  await mkdir(layersDir(root), { recursive: true });
  const tmp = await makeTempDir(root, 'layer');
  try {
    const target = join(tmp, 'root');
    await mkdir(target, { mode: 0o755 });
    // An uncompressed tar blob gives way to its split (store/tar-split.ts) once the dir is
    // durable; a compressed one is kept: its bytes cannot be made again from the tar.
    const split = blob.digest === diffId ? new TarSplitRecorder() : undefined;
    const stats: ExtractStats = { entries: 0, devicesSkipped: 0, isLossy: false };
    const got = await extractTar(openBlob(root, blob.digest), target, { what: `layer ${diffId}`, split, stats });
    if (got !== diffId) {
      throw new UserError('layer-digest-mismatch', `layer ${blob.digest}: uncompressed content is ${got}, its image says ${diffId}`, {
        where: blob.digest,
      });
    }
    const isSplit = split !== undefined && !stats.isLossy;
    if (isSplit) await writeTarSplit(root, diffId, split);
    // The tar goes once the dir is durable (store/layer-settle.ts).
    await publishDir(target, final);
    return final;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** A counter of what an extraction did (tests and notes read it). */
export interface ExtractStats {
  entries: number;
  devicesSkipped: number;
  /**
   * An entry replaced or removed what an earlier one made (duplicates, whiteouts of this
   * layer's own files): the dir no longer holds every body, so a split cannot stand for the tar.
   */
  isLossy?: boolean;
}

/**
 * Extract the (possibly compressed) tar `src` into the existing empty dir `target`, safely
 * (see the file comment). Returns the digest of the uncompressed tar (the diff_id).
 */
export async function extractTar(src: Readable, target: string, opts: ExtractOptions): Promise<Digest> {
  const hasher = new DigestHasher();
  await unpackTar(src, target, opts, hasher);
  return hasher.digest();
}

export interface ExtractOptions {
  what: string;
  stats?: ExtractStats;
  /** Record the tar-split of the archive (each extracted file's body by its path). */
  split?: TarSplitSink;
}

/**
 * `unpackTar` recording the tar's split: its encoded bytes (store/tar-split.ts), or undefined
 * when entries replaced one another and the dir cannot stand for the tar.
 */
export async function unpackSplit(src: Readable, target: string, what: string): Promise<Buffer | undefined> {
  const split = new TarSplitRecorder();
  const stats: ExtractStats = { entries: 0, devicesSkipped: 0, isLossy: false };
  await unpackTar(src, target, { what, split, stats });
  return stats.isLossy ? undefined : split.encode();
}

/** `extractTar` for a tar whose digest is known already (this build's own layer): nothing is hashed. */
export async function unpackTar(src: Readable, target: string, opts: ExtractOptions, hasher?: DigestHasher): Promise<void> {
  const { stream } = await decompressed(src, opts.what);
  let input: Readable = stream;
  if (hasher) {
    const hashing = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hasher.update(chunk);
        cb(null, chunk);
      },
    });
    stream.on('error', (e) => hashing.destroy(e));
    input = stream.pipe(hashing);
  }
  const x = new Extraction(target, opts.what, opts.stats ?? { entries: 0, devicesSkipped: 0 });
  try {
    await readTar(input, (e, body) => x.apply(e, body), { what: opts.what, split: opts.split });
    await x.finish();
  } catch (e) {
    src.destroy();
    if (e instanceof UserError) throw e;
    throw new UserError('layer-extract', ioMessage(`extract ${opts.what}`, e), { where: opts.what });
  }
}

interface Meta {
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
}

interface Device extends Meta {
  kind: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  isWhiteout: boolean;
}

/** Files up to this size are read into memory and written with synchronous calls. */
const SMALL_FILE_BYTES = 1 << 20;

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
const isRoot = process.getuid?.() === 0;
/** In a user namespace the kernel refuses mknod of real devices (whiteouts, 0/0, it allows). */
const canMakeDevices = isRoot && !inUserNamespace;

/** A leading `/` or `./`, an empty, `.` or `..` component, or `//` anywhere but as the last `/`. */
const NEEDS_CLEANING = /^\/|(^|\/)\.{1,2}(\/|$)|\/\/|^$/;

/** `name` cleaned to a relative path ('' = the root), or undefined if it climbs out. */
export function cleanEntryName(name: string): string | undefined {
  if (!NEEDS_CLEANING.test(name)) return name.endsWith('/') ? name.slice(0, -1) : name; // most names: as written
  const parts: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(c);
  }
  return parts.join('/');
}

/** The new file's owner, mode and mtime; chown first, since it clears setuid/setgid bits. */
function setFileMeta(fd: number, e: TarEntry): void {
  if (isRoot && (e.uid !== 0 || e.gid !== 0)) fchownSync(fd, e.uid, e.gid); // new files are root's already
  fchmodSync(fd, e.mode);
  futimesSync(fd, e.mtimeMs / 1000, e.mtimeMs / 1000);
}

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * A small file written whole with synchronous calls, each microseconds on the page cache,
 * where a round trip through libuv's thread pool per call was most of an extraction's time
 * (bench/RESULTS.md). False when something is at `abs` already.
 */
function writeSmallFile(abs: string, e: TarEntry, data: Buffer[]): boolean {
  let fd: number;
  try {
    fd = openSync(abs, CREATE, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    for (const chunk of data) for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off, chunk.length - off);
    setFileMeta(fd, e);
  } finally {
    closeSync(fd);
  }
  return true;
}

class Extraction {
  private readonly dirMeta = new Map<string, Meta>();
  private readonly devices = new Map<string, Device>();
  private readonly xattrs = new Map<string, Record<string, Buffer>>();
  private readonly opaque = new Set<string>();
  private readonly extracted = new Set<string>();
  /** Paths known to be real directories (only this extraction changes the tree). */
  private readonly realDirs = new Set<string>();
  constructor(
    private readonly target: string,
    private readonly what: string,
    private readonly stats: ExtractStats,
  ) {}

  private hostile(why: string): UserError {
    return new UserError('hostile-layer', `${this.what}: ${why}`, {
      where: this.what,
      hint: 'the archive tries to write outside its own root; it was not extracted',
    });
  }

  private abs(rel: string): string {
    return rel === '' ? this.target : `${this.target}/${rel}`; // rel is clean: no `.`, `..` or empty parts
  }

  async apply(e: TarEntry, body: TarBody): Promise<void> {
    noteEntries(++this.stats.entries);
    const rel = cleanEntryName(e.path);
    if (rel === undefined) throw this.hostile(`entry "${e.path}" points outside the layer`);
    const base = posix.basename(rel);
    if (base.startsWith(WHITEOUT)) return this.whiteout(rel, base);
    if (rel === '') {
      if (e.type === 'dir') this.dirMeta.set('', metaOf(e));
      return;
    }
    await this.ensureParents(rel);
    this.forget(rel);
    const abs = this.abs(rel);
    switch (e.type) {
      case 'dir': {
        const st = lstatOrUndefinedSync(abs);
        if (st && !st.isDirectory()) {
          unlinkSync(abs);
          this.stats.isLossy = true;
        }
        if (!st || !st.isDirectory()) mkdirSync(abs, { mode: 0o700 });
        this.dirMeta.set(rel, metaOf(e));
        break;
      }
      case 'file':
        body.keptAt(rel);
        if (e.size <= SMALL_FILE_BYTES) {
          // Most paths are new: what is there already is looked at only when the create fails.
          const data = await body.whole();
          if (!writeSmallFile(abs, e, data)) {
            await this.removeExisting(rel);
            if (!writeSmallFile(abs, e, data)) throw new Error(`[internal] ${abs} is still there after its removal`);
          }
        } else {
          await this.removeExisting(rel);
          await this.writeFile(abs, e, body);
        }
        break;
      case 'symlink':
        await this.removeExisting(rel);
        symlinkSync(e.linkTarget, abs);
        if (isRoot) lchownSync(abs, e.uid, e.gid);
        lutimesSync(abs, e.mtimeMs / 1000, e.mtimeMs / 1000);
        break;
      case 'hardlink':
        await this.hardlink(rel, e);
        break;
      case 'char':
      case 'block':
      case 'fifo':
        await this.removeExisting(rel);
        if (!canMakeDevices && e.type !== 'fifo') {
          this.stats.devicesSkipped++;
          return;
        }
        this.devices.set(rel, {
          ...metaOf(e),
          kind: e.type === 'fifo' ? 'p' : e.type === 'block' ? 'b' : 'c',
          major: e.devmajor,
          minor: e.devminor,
          isWhiteout: false,
        });
        break;
      default:
        return unreachable(e.type);
    }
    this.extracted.add(rel);
    if (hasKeys(e.xattrs)) {
      const xs = Object.entries(e.xattrs).filter(([k]) => !isOverlayXattr(k));
      if (xs.length > 0) this.xattrs.set(rel, Object.fromEntries(xs));
    }
  }

  /** Drop what was recorded for `rel` (a new entry at the same path wins). */
  private forget(rel: string): void {
    this.realDirs.delete(rel);
    this.devices.delete(rel);
    this.xattrs.delete(rel);
    this.opaque.delete(rel);
  }

  private async whiteout(rel: string, base: string): Promise<void> {
    const dir = posix.dirname(rel) === '.' ? '' : posix.dirname(rel);
    if (base === OPAQUE) {
      if (dir !== '') {
        await this.ensureParents(rel); // the dir itself too: a symlink there is written through
        const st = lstatOrUndefinedSync(this.abs(dir));
        if (st && !st.isDirectory()) await this.removeExisting(dir);
        if (!st || !st.isDirectory()) mkdirSync(this.abs(dir), { mode: 0o755 });
      }
      this.opaque.add(dir);
      return;
    }
    if (base.startsWith(WHITEOUT + WHITEOUT)) return; // other AUFS metadata: ignored, as Docker does
    const name = base.slice(WHITEOUT.length);
    if (name === '' || name === '.' || name === '..') throw this.hostile(`whiteout "${rel}" names "${name}"`);
    const victim = dir === '' ? name : `${dir}/${name}`;
    await this.ensureParents(victim);
    this.forget(victim);
    await this.removeExisting(victim);
    if (!isRoot) {
      this.stats.devicesSkipped++;
      return;
    }
    this.devices.set(victim, { mode: 0, uid: 0, gid: 0, mtimeMs: 0, kind: 'c', major: 0, minor: 0, isWhiteout: true });
  }

  /** Make every parent of `rel` a real directory, refusing to pass through a symlink. */
  private async ensureParents(rel: string): Promise<void> {
    const slash = rel.lastIndexOf('/');
    // A known parent's own parents were made real before it (a removal forgets what was below).
    if (slash === -1 || this.realDirs.has(rel.slice(0, slash))) return;
    const parts = rel.split('/');
    let prefix = '';
    for (let i = 0; i < parts.length - 1; i++) {
      prefix = prefix === '' ? parts[i] : `${prefix}/${parts[i]}`;
      if (this.realDirs.has(prefix)) continue;
      const abs = this.abs(prefix);
      const st = lstatOrUndefinedSync(abs);
      if (st?.isDirectory()) {
        this.realDirs.add(prefix);
        continue;
      }
      if (st?.isSymbolicLink()) throw this.hostile(`entry "${rel}" would be written through the symlink "${prefix}"`);
      if (st) await this.removeExisting(prefix);
      this.forget(prefix);
      // A missing parent is made as Docker does: 0755, root-owned.
      mkdirSync(abs, { mode: 0o755 });
      this.realDirs.add(prefix);
    }
  }

  /** Remove whatever is at `rel` (a directory with its contents), never following links. */
  private async removeExisting(rel: string): Promise<void> {
    const abs = this.abs(rel);
    const st = lstatOrUndefinedSync(abs);
    for (const k of [...this.devices.keys()]) if (k.startsWith(rel + '/')) this.devices.delete(k);
    this.realDirs.delete(rel);
    if (!st) return;
    this.stats.isLossy = true;
    if (st.isDirectory()) for (const k of [...this.realDirs]) if (k.startsWith(rel + '/')) this.realDirs.delete(k);
    if (st.isDirectory()) await rm(abs, { recursive: true, force: true });
    else unlinkSync(abs);
  }

  private async writeFile(abs: string, e: TarEntry, body: AsyncIterable<unknown> | Iterable<unknown>): Promise<void> {
    const fh = await open(abs, CREATE, 0o600);
    try {
      for await (const chunk of body) await fh.writeFile(chunk as Buffer);
      setFileMeta(fh.fd, e);
    } finally {
      await fh.close();
    }
  }

  private async hardlink(rel: string, e: TarEntry): Promise<void> {
    const target = cleanEntryName(e.linkTarget);
    if (target === undefined || target === '') throw this.hostile(`hardlink "${rel}" points outside the layer ("${e.linkTarget}")`);
    if (!this.extracted.has(target)) throw this.hostile(`hardlink "${rel}" points at "${e.linkTarget}", which is not in the layer before it`);
    await this.ensureParents(target);
    const st = lstatOrUndefinedSync(this.abs(target));
    if (!st) throw this.hostile(`hardlink "${rel}" points at "${e.linkTarget}", which was removed`);
    if (st.isDirectory()) throw this.hostile(`hardlink "${rel}" points at the directory "${e.linkTarget}"`);
    if (target === rel) return;
    await this.removeExisting(rel);
    linkSync(this.abs(target), this.abs(rel));
  }

  /** Devices, xattrs, then directory metadata (children change a dir's mtime, so last). */
  async finish(): Promise<void> {
    await this.makeDevices();
    await this.setXattrs();
    const dirs = [...this.dirMeta.entries()].sort((a, b) => depth(b[0]) - depth(a[0]));
    for (const [rel, m] of dirs) {
      const abs = this.abs(rel);
      const st = lstatOrUndefinedSync(abs);
      if (!st?.isDirectory()) continue;
      if (isRoot) chownSync(abs, m.uid, m.gid);
      chmodSync(abs, m.mode);
      utimesSync(abs, m.mtimeMs / 1000, m.mtimeMs / 1000);
    }
  }

  private async makeDevices(): Promise<void> {
    const list = [...this.devices.entries()];
    try {
      await makeNodes(list.map(([rel, d]) => ({ path: this.abs(rel), kind: d.kind, major: d.major, minor: d.minor, mode: d.mode })));
    } catch (e) {
      throw new UserError('layer-extract', `extract ${this.what}: ${(e as Error).message}`);
    }
    for (const [rel, d] of list) {
      if (d.isWhiteout) continue;
      const abs = this.abs(rel);
      lchownSync(abs, d.uid, d.gid);
      chmodSync(abs, d.mode); // after chown, which clears setuid/setgid
      lutimesSync(abs, d.mtimeMs / 1000, d.mtimeMs / 1000);
    }
  }

  private async setXattrs(): Promise<void> {
    const records: { path: string; name: string; value: Buffer }[] = [];
    for (const dir of this.opaque) records.push({ path: this.abs(dir), name: `${overlayXattrPrefix}opaque`, value: Buffer.from('y') });
    for (const [rel, xs] of this.xattrs) {
      const st = lstatOrUndefinedSync(this.abs(rel));
      if (!st || st.isSymbolicLink()) continue; // user.* xattrs cannot be set on symlinks
      for (const [name, value] of Object.entries(xs)) records.push({ path: this.abs(rel), name, value });
    }
    try {
      await setXattrs(records);
    } catch (e) {
      throw new UserError('layer-extract', `extract ${this.what}: ${(e as Error).message}`);
    }
  }
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

function depth(rel: string): number {
  return rel === '' ? 0 : rel.split('/').length;
}

function metaOf(e: TarEntry): Meta {
  return { mode: e.mode, uid: e.uid, gid: e.gid, mtimeMs: e.mtimeMs };
}

/**
 * The extraction's metadata calls (lstat, mkdir, symlink, chown, utimes …) are synchronous:
 * each takes microseconds, and a trip through libuv's thread pool costs more than the call.
 * File contents stay asynchronous.
 */
function lstatOrUndefinedSync(path: string) {
  return lstatSync(path, { throwIfNoEntry: false }); // no Error made for the usual "not there"
}
