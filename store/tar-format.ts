import type { FsEntryType } from '../common/index.js';

/**
 * The tar format itself: one 512-byte ustar header block to and from fields, and PAX
 * extended-header records. The encoder writes the bytes tar-stream's encoder wrote (octal
 * fields of N digits and a space, base-256 sizes, empty uname/gname), so layers keep their
 * digests; the decoder also reads GNU and v7 headers.
 */

export const BLOCK = 512;

/** Type flags of the entries the codec turns into filesystem entries. */
const FLAG_OF: Record<FsEntryType, number> = {
  file: 0x30,
  hardlink: 0x31,
  symlink: 0x32,
  char: 0x33,
  block: 0x34,
  dir: 0x35,
  fifo: 0x36,
};

/** The largest value of an octal field of `digits` digits. */
export const maxOctal = (digits: number): number => 8 ** digits - 1;

export interface UstarFields {
  /** At most 255 ASCII bytes, split by splitUstarName. */
  name: string;
  type: FsEntryType;
  mode: number;
  uid: number;
  gid: number;
  mtimeSec: number;
  size: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

/** `name` as ustar's prefix (≤155) and name (≤100) fields, split at a `/`; undefined when it cannot be. */
export function splitUstarName(name: string): { prefix: string; name: string } | undefined {
  if (!/^[\x01-\x7f]*$/.test(name)) return undefined;
  let rest = name;
  let prefix = '';
  while (rest.length > 100) {
    const i = rest.indexOf('/');
    if (i === -1) return undefined;
    prefix += prefix ? '/' + rest.slice(0, i) : rest.slice(0, i);
    rest = rest.slice(i + 1);
  }
  return prefix.length <= 155 ? { prefix, name: rest } : undefined;
}

/** `val` as `digits` octal digits and a space (all sevens when it does not fit). */
function octal(b: Buffer, off: number, val: number, digits: number): void {
  let s = Math.max(0, Math.trunc(val)).toString(8);
  if (s.length > digits) s = '7'.repeat(digits);
  b.write(s.padStart(digits, '0') + ' ', off, 'latin1');
}

/** The header block of one entry; the caller keeps every field within ustar's limits. */
export function encodeUstar(h: UstarFields): Buffer {
  const split = splitUstarName(h.name);
  if (!split || (h.linkname !== undefined && (!/^[\x01-\x7f]*$/.test(h.linkname) || h.linkname.length > 100))) {
    throw new Error(`[internal] tar: ustar cannot hold the header of ${h.name}`);
  }
  const b = Buffer.alloc(BLOCK);
  b.write(split.name, 0, 'latin1');
  octal(b, 100, h.mode & 0o7777, 6);
  octal(b, 108, h.uid, 6);
  octal(b, 116, h.gid, 6);
  if (h.size > maxOctal(11)) {
    b[124] = 0x80; // base-256, big-endian in the remaining 11 bytes
    let n = h.size;
    for (let i = 11; i > 0; i--) {
      b[124 + i] = n % 256;
      n = Math.floor(n / 256);
    }
  } else octal(b, 124, h.size, 11);
  octal(b, 136, h.mtimeSec, 11);
  b[156] = FLAG_OF[h.type];
  if (h.linkname) b.write(h.linkname, 157, 'latin1');
  b.write('ustar\x0000', 257, 'latin1');
  octal(b, 329, h.devmajor ?? 0, 6);
  octal(b, 337, h.devminor ?? 0, 6);
  if (split.prefix) b.write(split.prefix, 345, 'latin1');
  octal(b, 148, checksum(b), 6);
  return b;
}

/** A PAX extended header (`x`) block announcing `size` bytes of records. */
export function encodePaxHeader(name: string, size: number, mtimeSec: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  const oct = (v: number, len: number, off: number) => b.write(v.toString(8).padStart(len - 1, '0') + '\0', off, 'latin1');
  b.write(name, 0, 100, 'latin1');
  oct(0o644, 8, 100);
  oct(0, 8, 108);
  oct(0, 8, 116);
  oct(size, 12, 124);
  oct(Math.max(0, mtimeSec), 12, 136);
  b.write('x', 156, 'latin1');
  b.write('ustar\0', 257, 'latin1');
  b.write('00', 263, 'latin1');
  oct(0, 8, 329);
  oct(0, 8, 337);
  b.write(checksum(b).toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return b;
}

/** PAX extended header records: `LEN key=value\n`, LEN counting its own digits. */
export function encodePax(records: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const base = Buffer.byteLength(` ${key}=`) + value.length + 1;
    let digits = String(base).length;
    if (String(base + digits).length > digits) digits++;
    parts.push(Buffer.from(`${base + digits} ${key}=`), value, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** PAX records as key → raw value bytes; undefined when they are malformed. */
export function decodePax(buf: Buffer): Map<string, Buffer> | undefined {
  const out = new Map<string, Buffer>();
  let at = 0;
  while (at < buf.length) {
    if (buf[at] === 0) break; // padding some writers leave after the last record
    const sp = buf.indexOf(0x20, at);
    if (sp <= at || sp - at > 12) return undefined;
    const digits = buf.toString('latin1', at, sp);
    const len = /^[0-9]+$/.test(digits) ? Number(digits) : NaN;
    if (!(len > sp - at + 1) || at + len > buf.length || buf[at + len - 1] !== 0x0a) return undefined;
    const eq = buf.indexOf(0x3d, sp + 1);
    if (eq === -1 || eq >= at + len - 1) return undefined;
    out.set(buf.toString('utf8', sp + 1, eq), buf.subarray(eq + 1, at + len - 1));
    at += len;
  }
  return out;
}

/** The header's checksum: its bytes, with the checksum field itself counted as spaces. */
export function checksum(b: Buffer): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += b[i];
  for (let i = 156; i < BLOCK; i++) sum += b[i];
  return sum;
}

/** Old tars summed signed bytes; readers accept both. */
function signedChecksum(b: Buffer): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += b[i] > 127 ? b[i] - 256 : b[i];
  return sum;
}

/** What a header block says, before PAX and GNU long names are applied. */
export interface RawHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  /** May be negative or unsafe: the reader checks it. */
  size: number;
  mtimeSec: number;
  /** The type flag byte as a character ('0' for NUL). */
  flag: string;
  linkname: string;
  devmajor: number;
  devminor: number;
}

export type HeaderProblem = 'checksum' | 'number';

/** A numeric field: octal (leading spaces/NULs, ends at a space or NUL) or base-256; NaN when neither. */
function number(b: Buffer, off: number, len: number): number {
  const f = b.subarray(off, off + len);
  if (f[0] === 0x80 || f[0] === 0xff) {
    let n = 0;
    for (let i = 1; i < len; i++) n = n * 256 + (f[0] === 0xff ? 0xff - f[i] : f[i]);
    return f[0] === 0xff ? -(n + 1) : n;
  }
  let i = 0;
  while (i < len && (f[i] === 0x20 || f[i] === 0)) i++;
  let end = i;
  while (end < len && f[end] >= 0x30 && f[end] <= 0x37) end++;
  if (end < len && f[end] !== 0x20 && f[end] !== 0) return NaN;
  for (let j = end; j < len; j++) if (f[j] !== 0x20 && f[j] !== 0) return NaN;
  return end === i ? 0 : parseInt(f.toString('latin1', i, end), 8);
}

function text(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end === -1 || end > off + len ? off + len : end);
}

/** Whether a block is all zeros (the end-of-archive marker). */
export function isZeroBlock(b: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

/** Decode one header block, or say what is wrong with it. */
export function decodeUstar(b: Buffer): RawHeader | HeaderProblem {
  const stored = number(b, 148, 8);
  if (stored !== checksum(b) && stored !== signedChecksum(b)) return 'checksum';
  const fields = [number(b, 100, 8), number(b, 108, 8), number(b, 116, 8), number(b, 124, 12), number(b, 136, 12)];
  const flag = b[156] === 0 ? '0' : String.fromCharCode(b[156]);
  const isDev = flag === '3' || flag === '4';
  const dev = isDev ? [number(b, 329, 8), number(b, 337, 8)] : [0, 0];
  if ([...fields, ...dev].some((n) => Number.isNaN(n))) return 'number';
  const [mode, uid, gid, size, mtimeSec] = fields;
  let name = text(b, 0, 100);
  // POSIX ustar (not GNU's "ustar  \0", which keeps other fields there) has a name prefix.
  if (b.toString('latin1', 257, 263) === 'ustar\0' && b[345] !== 0) name = text(b, 345, 155) + '/' + name;
  return { name, mode, uid, gid, size, mtimeSec, flag, linkname: text(b, 157, 100), devmajor: dev[0], devminor: dev[1] };
}

/** The filesystem type of a type flag; undefined for flags that carry no entry of ours. */
export function typeOfFlag(flag: string, name: string): FsEntryType | undefined {
  switch (flag) {
    case '0':
    case '7': // contiguous file: a file everywhere but on Masscomp
      return name.endsWith('/') ? 'dir' : 'file'; // v7 tars mark directories by the slash
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
      return 'char';
    case '4':
      return 'block';
    case '5':
      return 'dir';
    case '6':
      return 'fifo';
    default:
      return undefined;
  }
}
