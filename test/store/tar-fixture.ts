import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';

/** One entry of a hand-made tar: tests write hostile and ordinary archives with it. */
export interface FixtureEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  content?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  devmajor?: number;
  devminor?: number;
  mtime?: Date;
  pax?: Record<string, string>;
}

/** The bytes of a tar holding `entries` in order (gzip-compressed on request). */
export async function makeTar(entries: FixtureEntry[], opts: { gzip?: boolean } = {}): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array));
  })();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = type === 'file' ? Buffer.from(e.content ?? '') : undefined;
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? new Date(1_700_000_000_000),
      linkname: e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
      size: body?.length ?? 0,
      ...(e.pax ? { pax: e.pax } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      pack.entry(header, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  const tar = Buffer.concat(chunks);
  return opts.gzip ? gzipSync(tar) : tar;
}

export function sha256(b: Buffer): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}

/**
 * A snapshot of everything under `dir` (type, mode, owner, size, content hash, link target,
 * mtime), minus the subtree `except`: compared before and after an extraction to prove
 * nothing outside the target changed.
 */
export async function snapshot(dir: string, except: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const n of (await readdir(d)).sort()) {
      const p = join(d, n);
      if (p === except) continue;
      const st = await lstat(p);
      let extra = '';
      if (st.isFile()) extra = sha256(await readFile(p));
      else if (st.isSymbolicLink()) extra = '-> ' + (await readlink(p));
      out.push(`${p} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.mtimeMs} ${extra}`);
      if (st.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out;
}
