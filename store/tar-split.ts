import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { UserError, hexOf, lazyBuiltin, type Digest } from '../common/index.js';
import { writeFileAtomic } from './atomic.js';
import type { TarSplitSink } from './tar-read.js';
import { tempFilePath } from './temp.js';

const zlib = /* @__PURE__ */ lazyBuiltin<typeof import('node:zlib')>('node:zlib');

/**
 * Each layer once on disk (issue 22): a layer whose extracted dir is in `layers/<hex>/` keeps,
 * instead of its tar, the tar's bytes minus the regular files' bodies in
 * `tar-split/<hex>` — headers, PAX records, padding and end blocks exactly as they were, in
 * order, with a reference (path in the dir, size) where each body was. Reading them back in
 * order, bodies from the dir, gives the tar byte for byte, so its digest (the diff_id) stays
 * checkable and `save`/`push` send what they sent before. Owners, modes, xattrs and device
 * numbers live in the recorded headers, never read from the dir (a rootless store may shift
 * the dir's ids).
 *
 * File: the tar's size (8 bytes, big-endian), then gzip of records: `R` u32 length bytes,
 * or `F` u32 length path u64 size.
 */

const RAW = 0x52;
const FILE = 0x46;

/** The dir a split's bodies are in: `layers/<hex>` (store/layers.ts names it the same). */
function splitLayerDir(root: string, diffId: Digest): string {
  return join(root, 'layers', hexOf(diffId));
}

export function tarSplitDir(root: string): string {
  return join(root, 'tar-split');
}

export function tarSplitPath(root: string, diffId: Digest): string {
  return join(tarSplitDir(root), hexOf(diffId));
}

/** Collects an archive as `readTar` hands it over (`ReadTarOptions.split`). */
export class TarSplitRecorder implements TarSplitSink {
  private readonly parts: Buffer[] = [];
  private raws: Buffer[] = [];
  private rawBytes = 0;
  sizeBytes = 0;

  raw(bytes: Buffer): void {
    this.raws.push(Buffer.from(bytes)); // a copy: the reader's chunk may be reused upstream
    this.rawBytes += bytes.length;
    this.sizeBytes += bytes.length;
  }

  body(rel: string, size: number): void {
    this.flush();
    const path = Buffer.from(rel);
    const rec = Buffer.alloc(1 + 4 + path.length + 8);
    rec[0] = FILE;
    rec.writeUInt32BE(path.length, 1);
    path.copy(rec, 5);
    rec.writeBigUInt64BE(BigInt(size), 5 + path.length);
    this.parts.push(rec);
    this.sizeBytes += size;
  }

  private flush(): void {
    if (this.rawBytes === 0) return;
    const head = Buffer.alloc(5);
    head[0] = RAW;
    head.writeUInt32BE(this.rawBytes, 1);
    this.parts.push(head, ...this.raws);
    this.raws = [];
    this.rawBytes = 0;
  }

  /** The records, uncompressed. */
  records(): Buffer {
    this.flush();
    return Buffer.concat(this.parts);
  }

  /** The file's bytes. */
  encode(): Buffer {
    const size = Buffer.alloc(8);
    size.writeBigUInt64BE(BigInt(this.sizeBytes));
    return Buffer.concat([size, zlib().gzipSync(this.records(), { level: 6 })]);
  }
}

/** Write the split of layer `diffId` (before its dir is published). */
export async function writeTarSplit(root: string, diffId: Digest, split: TarSplitRecorder): Promise<void> {
  await mkdir(tarSplitDir(root), { recursive: true, mode: 0o700 });
  await writeFileAtomic(tarSplitPath(root, diffId), split.encode(), { tmp: tempFilePath(root, 'split') });
}

/** `writeTarSplit` for a split encoded already (by an extraction worker). */
export async function writeTarSplitBytes(root: string, diffId: Digest, encoded: Uint8Array): Promise<void> {
  await mkdir(tarSplitDir(root), { recursive: true, mode: 0o700 });
  await writeFileAtomic(tarSplitPath(root, diffId), encoded, { tmp: tempFilePath(root, 'split') });
}

export async function removeTarSplit(root: string, diffId: Digest): Promise<void> {
  await rm(tarSplitPath(root, diffId), { force: true });
}

/** The size of the tar layer `diffId`'s split reproduces, or undefined when it has none. */
export function tarSplitSize(root: string, diffId: Digest): number | undefined {
  let fd: number;
  try {
    fd = openSync(tarSplitPath(root, diffId), 'r');
  } catch {
    return undefined;
  }
  try {
    const b = Buffer.alloc(8);
    return readSync(fd, b, 0, 8, 0) === 8 ? Number(b.readBigUInt64BE(0)) : undefined;
  } finally {
    closeSync(fd);
  }
}

/** Whether layer `diffId`'s tar can be made again from its split and dir. */
export function hasTarSplit(root: string, diffId: Digest): boolean {
  return (
    (statSync(tarSplitPath(root, diffId), { throwIfNoEntry: false })?.isFile() ?? false) &&
    (statSync(splitLayerDir(root, diffId), { throwIfNoEntry: false })?.isDirectory() ?? false)
  );
}

const READ_BYTES = 1 << 20;

/**
 * The tar of layer `diffId` again, from its split and the files in `layerDir`. A body file
 * that is missing, not a regular file or of another size fails the stream (a damaged layer
 * dir); changed contents show as another digest, which whoever reads it checks.
 */
export function openTarSplit(root: string, diffId: Digest): Readable {
  const what = `layer ${diffId}`;
  return Readable.from(reproduce(() => zlib().gunzipSync(readFileSync(tarSplitPath(root, diffId)).subarray(8)), splitLayerDir(root, diffId), what), { objectMode: false });
}

/** The tar that `split`'s records and the files in `dir` make (to check a split before it is kept). */
export function reproduceFrom(split: TarSplitRecorder, dir: string, what: string): Readable {
  return Readable.from(reproduce(() => split.records(), dir, what), { objectMode: false });
}

async function* reproduce(read: () => Buffer, layerDir: string, what: string): AsyncGenerator<Buffer> {
  const records = read();
  const damaged = (why: string) => new UserError('layer-damaged', `${what}: ${why}`, { where: layerDir, hint: 'tsbuild fsck reports damaged layers' });
  let at = 0;
  while (at < records.length) {
    const kind = records[at];
    const len = records.readUInt32BE(at + 1);
    at += 5;
    if (kind === RAW) {
      yield records.subarray(at, at + len);
      at += len;
      continue;
    }
    if (kind !== FILE) throw damaged('its tar-split record is damaged');
    const rel = records.toString('utf8', at, at + len);
    at += len;
    const size = Number(records.readBigUInt64BE(at));
    at += 8;
    let fd: number;
    try {
      fd = openSync(join(layerDir, rel), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch {
      throw damaged(`${rel} is missing from its dir`);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.size !== size) throw damaged(`${rel} is ${st.isFile() ? `${st.size} bytes, its tar says ${size}` : 'not a regular file'}`);
      let left = size;
      let pos = 0;
      while (left > 0) {
        const b = Buffer.allocUnsafe(Math.min(left, READ_BYTES));
        const n = readSync(fd, b, 0, b.length, pos);
        if (n === 0) throw damaged(`${rel} ended early`);
        left -= n;
        pos += n;
        yield n === b.length ? b : b.subarray(0, n);
      }
    } finally {
      closeSync(fd);
    }
  }
}
