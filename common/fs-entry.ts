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
