import { existsSync, readFileSync, utimesSync } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hexOf, digestOf, type Digest } from '../common/index.js';
import type { Descriptor, HistoryEntry } from './oci-types.js';
import { writeCacheFile } from './memo.js';

/**
 * Build cache records: cache key → what the step produced (its layer, if any, and its
 * history entry), plus the readable key parts so a later miss can be explained.
 * Records live in `<root>/cache/records/<hex>.json`; a record is only ever written after
 * its layer blob is in the store, so a record never points at nothing.
 * Records are a cache, written atomically but not fsynced: after a power loss a record may
 * be missing or empty, which `get` reads as a miss (the step runs again); the blobs they
 * point at are durable before the record is written.
 */
export interface CacheRecord {
  key: Digest;
  layer?: Descriptor;
  history: HistoryEntry;
  keyParts: unknown;
  /**
   * A run of steps cached as one record at its last step's key (executor/config-run.ts):
   * each step's key and history entry in order, the last one this record's own. Absent:
   * the record covers its own step only. `history` is always the last step's, so a reader
   * that knows nothing of batches takes the record as that step's alone, which it also is.
   */
  batch?: BatchEntry[];
}

/** One step of a batched record. */
export interface BatchEntry {
  key: Digest;
  history: HistoryEntry;
}

/** What the last build of a name used as step inputs, to explain the next build's misses. */
export interface BuildInputs {
  steps: {
    position: string;
    display: string;
    /** The step's cache key, the digest of `keyParts` (and so of `explain`, drawn from the content it names). */
    key?: string;
    keyParts: KeyPartsLike;
    explain?: { files?: Record<string, string> };
  }[];
}

/** A cache key's readable parts (planner/cache-key.ts KeyParts; the store keeps them opaque). */
export interface KeyPartsLike {
  parent: string;
  op: string;
  [field: string]: unknown;
}

export class CacheRecords {
  private readonly dir: string;
  private readonly buildsDir: string;

  constructor(root: string) {
    this.dir = join(root, 'cache', 'records');
    this.buildsDir = join(root, 'cache', 'builds');
  }

  async get(key: Digest): Promise<CacheRecord | undefined> {
    const path = join(this.dir, `${hexOf(key)}.json`);
    // A miss is the common case of a cold build: no exception made for it.
    if (!existsSync(path)) return undefined;
    let record: CacheRecord;
    try {
      record = JSON.parse(readFileSync(path, 'utf8')) as CacheRecord;
    } catch {
      return undefined;
    }
    // A hit is a use: the record's mtime is its last use, the order gc trims in (store/gc.ts).
    const now = new Date();
    try {
      utimesSync(path, now, now);
    } catch {
      // a read-only store, or pruned meanwhile: the order is only a preference
    }
    return record;
  }

  async put(record: CacheRecord): Promise<void> {
    await writeCacheFile(join(this.dir, `${hexOf(record.key)}.json`), JSON.stringify(record));
  }

  /** Every record (for gc roots and cache export). */
  async list(): Promise<CacheRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: CacheRecord[] = [];
    for (const n of names) {
      if (!n.endsWith('.json')) continue;
      try {
        out.push(JSON.parse(await readFile(join(this.dir, n), 'utf8')) as CacheRecord);
      } catch {
        // A record that cannot be read is no record: the step simply runs again.
      }
    }
    return out;
  }

  async remove(key: Digest): Promise<void> {
    await rm(join(this.dir, `${hexOf(key)}.json`), { force: true });
  }

  async removeAll(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  async lastBuild(name: string): Promise<BuildInputs | undefined> {
    try {
      return JSON.parse(readFileSync(join(this.buildsDir, `${hexOf(digestOf(name))}.json`), 'utf8')) as BuildInputs;
    } catch {
      return undefined;
    }
  }

  /**
   * Keep `inputs` as the last build of `name`. An unchanged rebuild writes nothing: when every
   * step has its key, their digest beside the file (`.sum`) stands for the file's text, so a
   * rebuild of 10,000 steps compares one digest instead of writing out megabytes of key parts
   * and reading the old ones back.
   */
  async recordBuild(name: string, inputs: BuildInputs): Promise<void> {
    const base = join(this.buildsDir, hexOf(digestOf(name)));
    const path = `${base}.json`;
    const sum = inputs.steps.every((s) => s.key !== undefined) ? digestOf(inputs.steps.map((s) => `${s.position}\0${s.display}\0${s.key}`).join('\n')) : undefined;
    if (sum !== undefined && readIfThere(`${base}.sum`) === sum && existsSync(path)) return;
    const text = JSON.stringify(inputs);
    // The old sum goes before the file changes, the new one comes after it: a sum never
    // stands for other text, whatever step a crash stops at.
    if (readIfThere(path) !== text) {
      await rm(`${base}.sum`, { force: true });
      await writeCacheFile(path, text);
    }
    if (sum !== undefined) await writeCacheFile(`${base}.sum`, sum);
    else await rm(`${base}.sum`, { force: true });
  }
}

function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
