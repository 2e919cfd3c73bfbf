import type { Stats } from 'node:fs';
import { inUserNamespace } from '../common/index.js';

/** Numbers kept a path: ino, mode, uid, gid, size, mtimeMs, ctimeMs (ino NaN: not there). */
const FIELDS = 7;

/**
 * The lstats a build's context walks made, as numbers (FIELDS a path) rather than as the
 * Stats themselves: a Node 20 Stats comes with four Dates, and 10,000 of them kept to the
 * end of a build were megabytes for every scavenge to copy. A path looked at twice is
 * kept twice (both must still hold for a replay).
 */
export class StatLog {
  private readonly paths: string[] = [];
  private nums = new Float64Array(FIELDS * 1024);
  /** The newest ctime seen (-Infinity: none). */
  newestCtimeMs = -Infinity;

  add(path: string, st: Stats | undefined): void {
    const at = this.paths.length * FIELDS;
    this.paths.push(path);
    if (at + FIELDS > this.nums.length) {
      const grown = new Float64Array(this.nums.length * 2);
      grown.set(this.nums);
      this.nums = grown;
    }
    const n = this.nums;
    if (!st) {
      n[at] = NaN;
      return;
    }
    n[at] = st.ino;
    n[at + 1] = st.mode;
    n[at + 2] = st.uid;
    n[at + 3] = st.gid;
    n[at + 4] = st.size;
    n[at + 5] = st.mtimeMs;
    n[at + 6] = st.ctimeMs;
    if (st.ctimeMs > this.newestCtimeMs) this.newestCtimeMs = st.ctimeMs;
  }

  /** Each path with its signature (`sigOf`), in the order they were seen. */
  forEachSig(fn: (path: string, sig: string) => void): void {
    const n = this.nums;
    for (let i = 0, at = 0; i < this.paths.length; i++, at += FIELDS) {
      fn(this.paths[i], Number.isNaN(n[at]) ? '-' : sig(n[at], n[at + 1], n[at + 2], n[at + 3], n[at + 4], n[at + 5], n[at + 6]));
    }
  }
}

/**
 * A replay record's SIG of a path (cli/build-replay.ts): `ino:mode:uid:gid:size:mtime_ms:ctime_ms`,
 * "-" when it is not there. In a user namespace (rootless mode) the owners are `*`: the front
 * door stats from outside it, where they read otherwise, and an owner the namespace does not
 * map reads as the overflow id, which a mapped id may be too. A chown changes the ctime, which
 * is still compared.
 */
export function sigOf(st: Stats | undefined): string {
  return st ? sig(st.ino, st.mode, st.uid, st.gid, st.size, st.mtimeMs, st.ctimeMs) : '-';
}

function sig(ino: number, mode: number, uid: number, gid: number, size: number, mtimeMs: number, ctimeMs: number): string {
  const owner = inUserNamespace ? '*:*' : `${uid}:${gid}`;
  return `${ino}:${mode}:${owner}:${size}:${mtimeMs}:${ctimeMs}`;
}
