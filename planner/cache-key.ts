import { canonicalJson, digestOf, type Digest } from '../common/index.js';

/**
 * A step's cache key: the digest of a small readable object (STYLE.md §5) — the parent's
 * key, the step after expansion, and for copies the digest of the selected content (no
 * mtimes). The object is kept with the cache record so a miss can be explained.
 */
export interface KeyParts {
  parent: string;
  op: string;
  [field: string]: unknown;
}

export function cacheKeyOf(parts: KeyParts): Digest {
  return digestOf(canonicalJson(parts));
}

/** Name the first difference between two key objects, for `cache miss: …` lines. */
export function explainMiss(previous: KeyParts | undefined, current: KeyParts): string | undefined {
  if (!previous) return undefined;
  if (previous.parent !== current.parent) return 'an earlier step changed';
  const fields = new Set([...Object.keys(previous), ...Object.keys(current)]);
  for (const f of [...fields].sort()) {
    if (f === 'parent') continue;
    const a = canonicalJson(previous[f]);
    const b = canonicalJson(current[f]);
    if (a === b) continue;
    if (f === 'files' && isRecord(previous[f]) && isRecord(current[f])) {
      const changed = changedFile(previous[f] as Record<string, string>, current[f] as Record<string, string>);
      if (changed) return changed;
    }
    if (f === 'env') return 'build args or environment changed';
    if (f === 'base') return 'base image changed';
    return `${f} changed`;
  }
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function changedFile(a: Record<string, string>, b: Record<string, string>): string | undefined {
  for (const k of Object.keys(b).sort()) {
    if (!(k in a)) return `${k} added`;
    if (a[k] !== b[k]) return `${k} changed`;
  }
  for (const k of Object.keys(a).sort()) if (!(k in b)) return `${k} removed`;
  return undefined;
}
