import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { UserError, type FsEntry } from '../common/index.js';
import { cleanPath } from '../context/index.js';
import { decompressed, readTar } from '../store/index.js';

/**
 * ADD's local archives: detected by magic bytes (never by name) and then by a valid tar
 * header after decompression, as Docker does (store/layer-stream.ts: gzip and zstd in
 * Node, bzip2 and xz through their programs). Entries are read into memory as metadata,
 * their bytes into temp files, so the layer can be written in sorted order whatever order
 * the archive has.
 */
export type ArchiveKind = 'gzip' | 'bzip2' | 'xz' | 'tar';

/** `path`: cleaned, inside the archive ('' = the archive's own `./`); a hardlink's target cleaned too. */
export interface ArchiveEntry extends FsEntry {
  /** Where the bytes were put (files). */
  contentPath?: string;
  devmajor: number;
  devminor: number;
}

/** The archive kind of a local file, or undefined when ADD must copy it as it is. */
export async function detectArchive(path: string): Promise<ArchiveKind | undefined> {
  // One synchronous read of the first block: the magic bytes, and for a plain tar its header.
  let head: Buffer = Buffer.alloc(512);
  const fd = openSync(path, 'r');
  try {
    head = head.subarray(0, readSync(fd, head, 0, 512, 0));
  } finally {
    closeSync(fd);
  }
  let kind: ArchiveKind = 'tar';
  if (head[0] === 0x1f && head[1] === 0x8b) kind = 'gzip';
  else if (head.subarray(0, 3).toString('latin1') === 'BZh') kind = 'bzip2';
  else if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) kind = 'xz';
  if (kind !== 'tar') head = await firstBytes(await tarStreamOf(path, kind), 512);
  return head.length === 512 && isTarHeader(head) ? kind : undefined;
}

/** The tar inside the archive at `path` (bzip2 and xz need their programs: a clear error without). */
async function tarStreamOf(path: string, kind: ArchiveKind): Promise<Readable> {
  const file = createReadStream(path);
  return kind === 'tar' ? file : (await decompressed(file, `ADD ${path}`)).stream;
}

async function firstBytes(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let have = 0;
  try {
    for await (const c of stream) {
      chunks.push(c as Buffer);
      have += (c as Buffer).length;
      if (have >= n) break;
    }
  } catch (e) {
    if (e instanceof UserError && e.code === 'decompress-tool-missing') throw e;
    // Not decompressible: not an archive.
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, n);
}

/** A ustar/gnu/v7 header block with a valid checksum. */
function isTarHeader(b: Buffer): boolean {
  const stored = parseInt(b.subarray(148, 156).toString('latin1').replace(/[\0 ]+/g, ' ').trim(), 8);
  if (Number.isNaN(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : b[i];
  return sum === stored;
}

/** Read every entry of an archive; file bytes go to numbered files in `tmpDir`. */
export async function readArchive(path: string, kind: ArchiveKind, tmpDir: string): Promise<ArchiveEntry[]> {
  const out: ArchiveEntry[] = [];
  let n = 0;
  await readTar(
    await tarStreamOf(path, kind),
    async (e, body) => {
      const entry: ArchiveEntry = {
        ...e,
        path: safePath(e.path, path),
        devmajor: e.devmajor,
        devminor: e.devminor,
        linkTarget: e.type === 'hardlink' ? safePath(e.linkTarget, path) : e.type === 'symlink' ? e.linkTarget : undefined,
      };
      delete entry.xattrs;
      if (e.type === 'file') {
        entry.contentPath = join(tmpDir, String(n++));
        const fh = await open(entry.contentPath, 'w');
        try {
          for await (const c of body) await fh.write(c);
        } finally {
          await fh.close();
        }
      }
      out.push(entry);
    },
    { what: `ADD ${path}` },
  );
  return out;
}

/** An archive path cleaned to stay inside the destination; `..` escapes are refused. */
function safePath(name: string, archive: string): string {
  const c = cleanPath(name);
  if (c === '..' || c.startsWith('../') || c.startsWith('/..')) {
    throw new UserError('add-archive-unsafe', `ADD ${archive}: entry ${JSON.stringify(name)} points outside the destination`);
  }
  return c.replace(/^\/+/, '').replace(/^\.$/, '');
}
