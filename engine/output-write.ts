import { mkdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { UserError, ioMessage } from '../common/index.js';
import { copyTree } from '../executor/index.js';
import { TarPack, writeTreeTar } from '../store/index.js';
import { writeOutputFile } from './output-file.js';

/**
 * Where a build output goes and how its bytes get there: the `dest` checks buildx makes
 * before building, an I/O failure as one line naming the output, a file that appears only
 * once complete, and the final stage's files as a directory or a tar.
 */

export const destMessages = {
  'output-dest-file': (dest: string) => `destination directory ${dest} is a file`,
  'output-dest-dir': (dest: string) => `destination file ${dest} is a directory`,
  'output-needs-dest': (type: string) => `dest is required for ${type} exporter`,
} satisfies Record<string, (...args: never[]) => string>;

/** SOURCE_DATE_EPOCH: the time of every file a local or tar output writes. */
export const mtimeOf = (epoch: number | undefined) => (epoch === undefined ? undefined : new Date(epoch * 1000));

/** A `dest` that is a directory: made when missing, refused when a file is there (buildx build/opt.go). */
export async function directoryDest(dest: string | Writable, type: string, cwd: string): Promise<string> {
  if (typeof dest !== 'string' || dest === '') throw new UserError('usage', destMessages['output-needs-dest'](type), { exitCode: 2 });
  const path = resolve(cwd, dest);
  const st = await stat(path).catch(() => undefined);
  if (st && !st.isDirectory()) throw new UserError('output-dest', destMessages['output-dest-file'](dest), { where: dest, exitCode: 2 });
  return path;
}

/** A `dest` that is a file (or a stream), refused when a directory is there. */
export async function fileDest(dest: string | Writable, type: string, cwd: string): Promise<string | Writable> {
  if (typeof dest !== 'string') return dest;
  if (dest === '') throw new UserError('usage', destMessages['output-needs-dest'](type), { exitCode: 2 });
  const path = resolve(cwd, dest);
  const st = await stat(path).catch(() => undefined);
  if (st?.isDirectory()) throw new UserError('output-dest', destMessages['output-dest-dir'](dest), { where: dest, exitCode: 2 });
  return path;
}

/** An I/O failure writing an output is one line naming it. */
export async function withIo(name: string, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError('output-failed', ioMessage(`output: write ${name}`, e), { where: name });
  }
}

/** To a file that appears only once complete (engine/output-file.ts), or to the stream. */
export function toFileOrStream(dest: string | Writable, shown: string | Writable, write: (out: Writable) => Promise<void>): Promise<void> {
  if (typeof dest !== 'string') return write(dest);
  return withIo(typeof shown === 'string' ? shown : dest, () => writeOutputFile(dest, write));
}

/** The final stage's files into `dest` (merged with what it holds). */
export async function writeLocal(rootfs: string | undefined, dest: string, shown: string, opts: { owner: { uid: number; gid: number }; mtime?: Date }): Promise<void> {
  await withIo(shown, async () => {
    await mkdir(dest, { recursive: true });
    if (rootfs !== undefined) await copyTree(rootfs, dest, { ...opts, asRootfs: true });
  });
}

/** The final stage's files as a tar (an empty archive for no layers). */
export async function writeRootfsTar(rootfs: string | undefined, out: Writable, mtime: Date | undefined): Promise<void> {
  if (rootfs === undefined) {
    const pack = new TarPack(out);
    return pack.finish();
  }
  return writeTreeTar(rootfs, out, { asRootfs: true, mtimeMs: mtime?.getTime() });
}
