import { spawn } from 'node:child_process';
import { constants, createWriteStream, type WriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { helperPath } from '../common/index.js';

/** open(2)'s O_TMPFILE (Node has no constant for it): __O_TMPFILE | O_DIRECTORY. */
const O_TMPFILE = 0o20000000 | constants.O_DIRECTORY;

/**
 * Write the file `path` whole or not at all (`save -o`): the bytes go to an unnamed file
 * (O_TMPFILE) in `path`'s dir, which gets its name only once complete and flushed
 * (runtime-helper --link), so a process killed at any instant leaves nothing next to the
 * output. Where the filesystem has no O_TMPFILE, a hidden sibling temp file, removed when
 * the write fails or is aborted. `signal` aborts the write (Ctrl-C): nothing is left either.
 */
export async function writeOutputFile(path: string, write: (out: WriteStream) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const dir = dirname(path);
  const unnamed = await open(dir, O_TMPFILE | constants.O_WRONLY, 0o644).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'EOPNOTSUPP' || e.code === 'EISDIR' || e.code === 'EINVAL') return undefined;
    throw e;
  });
  if (!unnamed) return writeSibling(path, write, signal);
  try {
    const out = createWriteStream('', { fd: unnamed.fd, autoClose: false });
    await writeAll(out, write, signal);
    await unnamed.sync();
    await linkUnnamed(unnamed.fd, path);
  } finally {
    await unnamed.close(); // unnamed and closed: the kernel frees it
  }
}

async function writeAll(out: WriteStream, write: (out: WriteStream) => Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  let stop: (() => void) | undefined;
  // Aborted: the stream is destroyed and the write given up at once (a writer waiting for
  // a drain that never comes would otherwise keep it pending).
  const aborted = new Promise<never>((_, reject) => {
    stop = () => {
      out.destroy();
      reject(new Error('interrupted'));
    };
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop, { once: true });
  });
  const written = Promise.all([write(out), finished(out)]);
  written.catch(() => undefined); // after an abort its failure is expected
  aborted.catch(() => undefined);
  try {
    await Promise.race([written, aborted]);
  } finally {
    if (stop) signal?.removeEventListener('abort', stop);
  }
}

/** Name the unnamed file open on `fd` `path` (the helper gets it as its fd 3). */
function linkUnnamed(fd: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(helperPath, ['--link', path], { stdio: ['ignore', 'ignore', 'pipe', fd] });
    const err: Buffer[] = [];
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(Buffer.concat(err).toString('utf8').trim() || `link ${path}: exit ${code}`))));
  });
}

async function writeSibling(path: string, write: (out: WriteStream) => Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tsbuild-${process.pid}`);
  try {
    await writeAll(createWriteStream(tmp, { flags: 'wx' }), write, signal);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
