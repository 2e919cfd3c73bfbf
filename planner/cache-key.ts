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
export function explainMiss(
  previous: { keyParts: KeyParts; explain?: { files?: Record<string, string> } } | undefined,
  current: { keyParts: KeyParts; explain?: { files?: Record<string, string> } },
): string | undefined {
  if (!previous) return undefined;
  const filesA = previous.explain?.files;
  const filesB = current.explain?.files;
  return explainParts(previous.keyParts, current.keyParts, filesA, filesB);
}

function explainParts(
  previous: KeyParts,
  current: KeyParts,
  filesA: Record<string, string> | undefined,
  filesB: Record<string, string> | undefined,
): string | undefined {
  if (previous.op !== current.op) return 'the instruction changed';
  if (previous.parent !== current.parent) return 'an earlier step changed';
  const fields = new Set([...Object.keys(previous), ...Object.keys(current)]);
  for (const f of [...fields].sort()) {
    if (f === 'parent') continue;
    if (canonicalJson(previous[f]) === canonicalJson(current[f])) continue;
    switch (f) {
      case 'content':
        return changedFile(filesA, filesB) ?? 'files in the build context changed';
      case 'env':
        return changedEnv(previous.env, current.env);
      case 'argv':
      case 'createdBy':
      case 'edits':
        return 'the instruction changed';
      default:
        return `${f} changed`;
    }
  }
  return undefined;
}

function changedFile(a: Record<string, string> | undefined, b: Record<string, string> | undefined): string | undefined {
  if (!a || !b) return undefined;
  for (const k of Object.keys(b).sort()) {
    if (!(k in a)) return `${k} added`;
    if (a[k] !== b[k]) return `${k} changed`;
  }
  for (const k of Object.keys(a).sort()) if (!(k in b)) return `${k} removed`;
  return undefined;
}

/** `build arg VERSION changed` / `environment variable X changed`. */
function changedEnv(a: unknown, b: unknown): string {
  const toMap = (v: unknown) => new Map((Array.isArray(v) ? (v as string[]) : []).map((e) => [e.split('=')[0], e]));
  const ma = toMap(a);
  const mb = toMap(b);
  for (const k of [...new Set([...ma.keys(), ...mb.keys()])].sort()) {
    if (ma.get(k) !== mb.get(k)) return `build arg or environment variable ${k} changed`;
  }
  return 'the environment changed';
}
