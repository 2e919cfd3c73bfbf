/**
 * `docker logs`: a detached container's output as its helper's relay kept it
 * (store/container-logs.ts), optionally the last N lines, with timestamps, and followed
 * until the container ends.
 */
import { open, stat } from 'node:fs/promises';
import { isHelperAlive, parseLogRecords, type LogRecord } from '../store/index.js';
import { findContainer } from './containers.js';
import type { CallOptions } from './images.js';
import { openStoreOf } from './store-option.js';
import { settingsFromEnv } from './settings.js';

export interface LogsOptions extends CallOptions {
  container: string;
  /** Keep printing what the container writes until it ends (`-f`). */
  follow?: boolean;
  /** Only the last N lines of what is kept (`--tail N`); undefined: all. */
  tail?: number;
  /** Each line starts with its RFC 3339 time (`-t`). */
  timestamps?: boolean;
  onRecord: (stream: 'stdout' | 'stderr', data: Buffer) => void;
  /** Stop following. */
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readFrom(file: string, offset: number): Promise<Buffer> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return Buffer.alloc(0);
  try {
    const { size } = await fh.stat();
    if (size <= offset) return Buffer.alloc(0);
    const buf = Buffer.alloc(size - offset);
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export async function containerLogs(o: LogsOptions): Promise<void> {
  const store = await openStoreOf(o.store, o.settings ?? settingsFromEnv(process.env));
  const c = await findContainer(store, o.container);
  const file = store.containers.paths(c.id).logFile;
  const emit = (r: LogRecord) => o.onRecord(r.stream, o.timestamps ? Buffer.concat([Buffer.from(`${r.time} `), r.data]) : r.data);
  // What is there now: the rotated half, then the current file up to a record boundary.
  let ino = (await stat(file).catch(() => undefined))?.ino;
  const older = parseLogRecords(await readFrom(`${file}.1`, 0)).records;
  const current = parseLogRecords(await readFrom(file, 0));
  let offset = current.used;
  const all = [...older, ...current.records];
  for (const r of o.tail === undefined ? all : o.tail === 0 ? [] : all.slice(-o.tail)) emit(r);
  if (!o.follow) return;
  // Follow: new records as they land; a rotation shows as a new inode (the old file is now .1).
  for (let last = false; ; ) {
    const alive = isHelperAlive(c);
    const now = (await stat(file).catch(() => undefined))?.ino;
    if (now !== ino) {
      const rest = parseLogRecords(await readFrom(`${file}.1`, offset)).records;
      rest.forEach(emit);
      ino = now;
      offset = 0;
    }
    const more = parseLogRecords(await readFrom(file, offset));
    more.records.forEach(emit);
    offset += more.used;
    if (o.signal?.aborted || last) return;
    last = !alive; // one more round: the relay writes the last line after the helper is gone
    await sleep(100);
  }
}
