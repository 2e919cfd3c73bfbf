/**
 * One filesystem entry as layers, archives, the build context and snapshots see it. The tar
 * codec reads and writes exactly this; the others add what they need beside it (where the
 * bytes are, a hardlink key, st_rdev).
 */
export type FsEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface FsEntry {
  /** Slash-separated path, as the archive or tree names it. */
  path: string;
  type: FsEntryType;
  /** Permission bits, setuid/setgid/sticky included (07777). */
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  /** Bytes of a regular file's body; 0 for every other type. */
  size: number;
  /** A symlink's target, or the path a hardlink names. */
  linkTarget?: string;
  /** Devices only. */
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, values as raw bytes. */
  xattrs?: Record<string, Buffer>;
}

/** Linux `major()`/`minor()` of a dev_t. */
export function splitRdev(rdev: number): { major: number; minor: number } {
  const lo = rdev % 2 ** 32 >>> 0;
  const hi = Math.floor(rdev / 2 ** 32) >>> 0;
  const major = ((lo >>> 8) & 0xfff) | (hi & 0xfffff000);
  const minor = (lo & 0xff) | (((lo >>> 12) | (hi << 20)) & 0xffffff00);
  return { major: major >>> 0, minor: minor >>> 0 };
}
