/**
 * A detached container's output as the helper's log relay writes it (runtime-helper/log.c):
 * records of `<time> <stdout|stderr> <LEN>\n<LEN bytes>` in output.log, the older half in
 * output.log.1 once the file passed its bound.
 */
import { readFile } from 'node:fs/promises';

export interface LogRecord {
  /** RFC 3339 with nanoseconds, UTC, as Docker prints it with --timestamps. */
  time: string;
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

/** The complete records in `buf`, and how many bytes they took (a record being written is left). */
export function parseLogRecords(buf: Buffer): { records: LogRecord[]; used: number } {
  const records: LogRecord[] = [];
  let at = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, at);
    if (nl < 0) break;
    const m = /^(\S+) (stdout|stderr) (\d+)$/.exec(buf.toString('utf8', at, nl));
    if (!m) throw new Error(`[internal] container log: malformed record at byte ${at}`);
    const end = nl + 1 + Number(m[3]);
    if (end > buf.length) break;
    records.push({ time: m[1], stream: m[2] as LogRecord['stream'], data: buf.subarray(nl + 1, end) });
    at = end;
  }
  return { records, used: at };
}

export async function readLog(file: string): Promise<LogRecord[]> {
  const [older, current] = await Promise.all([`${file}.1`, file].map((f) => readFile(f).catch(() => Buffer.alloc(0))));
  return [...parseLogRecords(older).records, ...parseLogRecords(current).records];
}
