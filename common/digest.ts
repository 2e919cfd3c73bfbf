import * as crypto from 'node:crypto';
import { createHash, type Hash } from 'node:crypto';

/** A content digest `sha256:<64 hex>`, made only by hashing bytes or by parsing a checked string. */
export type Digest = string & { readonly brand: 'Digest' };

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

// One-shot crypto.hash (Node >= 20.12) takes half the time of a Hash object for a small
// input; a cache key per step adds up (10,000 LABELs: 32 -> ~15 ms). Older Nodes lack it.
const hashOnce = typeof crypto.hash === 'function' ? crypto.hash : undefined;

export function digestOf(data: string | Uint8Array): Digest {
  return ('sha256:' + (hashOnce ? hashOnce('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex'))) as Digest;
}

/** The 64 hex characters of a digest. */
export function hexOf(d: Digest): string {
  return d.slice(7);
}

/** The 12-character short id Docker prints. */
export function shortId(d: Digest): string {
  return d.slice(7, 19);
}

/** An incremental sha256 that yields a Digest when done. */
export class DigestHasher {
  private readonly hash: Hash = createHash('sha256');
  sizeBytes = 0;
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.sizeBytes += chunk.length;
  }
  digest(): Digest {
    return ('sha256:' + this.hash.digest('hex')) as Digest;
  }
}

/** JSON with object keys sorted at every level: the form cache keys and golden files hash. */
export function canonicalJson(value: unknown): string {
  // Most keys are built in sorted order already: then the copy is the same JSON, unmade.
  return JSON.stringify(isSorted(value) ? value : sortKeys(value));
}

/** Plain objects and arrays only, every object's keys strictly ascending, no undefined value. */
function isSorted(v: unknown): boolean {
  if (Array.isArray(v)) {
    for (const x of v) if (!isSorted(x)) return false;
    return true;
  }
  if (v === null || typeof v !== 'object') return true;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  let previous: string | undefined;
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined || (previous !== undefined && !(previous < k)) || !isSorted(x)) return false;
    previous = k;
  }
  return true;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}
