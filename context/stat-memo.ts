import { noteEntries, type Digest } from '../common/index.js';

/**
 * Content digests of context files, keyed by (absolute path, size, mtime, inode): a second
 * hash of an unchanged context reads no file contents (issue 4, "Context hashing").
 * A file modified less than a second before it was hashed is not remembered: its mtime may
 * not change on a write that follows within the clock's resolution ("racily clean" in git).
 */

/** Where a memo is kept between builds (the store's memo of the context: context/build-context.ts). */
export interface MemoStorage {
  /** The saved text; undefined when there is none. */
  read(): Promise<string | undefined>;
  write(text: string): Promise<void>;
}
export interface StatKey {
  size: number;
  mtimeMs: number;
  ino: number;
}

interface MemoRecord extends StatKey {
  digest: Digest;
}

const RACY_MS = 1000;

export class StatMemo {
  /** How many lookups found a digest / had to read the file: for tests and progress. */
  hits = 0;
  misses = 0;
  private dirty = false;

  constructor(
    private readonly records: Map<string, MemoRecord>,
    private readonly storage: MemoStorage | undefined,
  ) {}

  /** The remembered digest of `absPath` if its size, mtime and inode are unchanged. */
  get(absPath: string, st: StatKey): Digest | undefined {
    const r = this.records.get(absPath);
    if (r && r.size === st.size && r.mtimeMs === st.mtimeMs && r.ino === st.ino) {
      this.hits++;
      return r.digest;
    }
    this.misses++;
    return undefined;
  }

  set(absPath: string, st: StatKey, digest: Digest, nowMs = Date.now()): void {
    if (st.mtimeMs > nowMs - RACY_MS) return;
    this.records.set(absPath, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, digest });
    this.dirty = true;
  }

  /** Write the memo back to its storage, if it changed. */
  async save(): Promise<void> {
    if (!this.storage || !this.dirty) return;
    const obj: Record<string, MemoRecord> = {};
    for (const [k, v] of this.records) obj[k] = v;
    await this.storage.write(JSON.stringify({ version: 1, files: obj }));
    this.dirty = false;
  }
}

/**
 * The shape of a digest, checked cheaply: the memo is the store's own file, written whole by
 * rename, and a damaged value only costs a cache miss (isDigest's pattern, 10,000 times, ~4 ms).
 */
function isMemoDigest(d: unknown): d is Digest {
  return typeof d === 'string' && d.length === 71 && d.startsWith('sha256:');
}

/** An in-memory memo (one build), or one loaded from `storage` (missing or unreadable → empty). */
export async function loadStatMemo(storage?: MemoStorage): Promise<StatMemo> {
  const records = new Map<string, MemoRecord>();
  if (storage) {
    try {
      const text = await storage.read();
      if (text === undefined) return new StatMemo(records, storage);
      // About 170 bytes a file: parsing a memo of many files is itself such a walk.
      noteEntries(Math.floor(text.length / 170));
      const parsed = JSON.parse(text) as { version?: number; files?: Record<string, MemoRecord> };
      if (parsed.version === 1 && parsed.files) {
        const files = parsed.files;
        for (const k in files) {
          const v = files[k];
          if (v && isMemoDigest(v.digest) && typeof v.size === 'number' && typeof v.mtimeMs === 'number' && typeof v.ino === 'number')
            records.set(k, v);
        }
      }
    } catch {
      // A missing or damaged memo only costs a re-read.
    }
  }
  return new StatMemo(records, storage);
}
