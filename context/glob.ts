/**
 * Go's `path/filepath.Match` for one path component, and its syntax check: the rule Docker
 * uses for COPY wildcards (per component) and to validate .dockerignore patterns.
 * `*` and `?` never match `/`; `[...]`, `[^...]` classes with ranges; `\` escapes.
 */

/** Thrown for a malformed pattern, like Go's `filepath.ErrBadPattern`. */
export class BadPatternError extends Error {
  constructor(pattern: string) {
    super(`syntax error in pattern: ${JSON.stringify(pattern)}`);
    this.name = 'BadPatternError';
  }
}

/** Does `name` match Go pattern `pattern`? Throws BadPatternError for a malformed pattern. */
export function goMatch(pattern: string, name: string): boolean {
  const chars = Array.from(pattern);
  const s = Array.from(name);
  const m = matchFrom(chars, 0, s, 0, pattern);
  if (!m) checkSyntax(pattern); // Go reports a syntax error even when the match failed early
  return m;
}

/** Throws BadPatternError when Go's filepath.Match would reject `pattern`. */
export function checkSyntax(pattern: string): void {
  const p = Array.from(pattern);
  let i = 0;
  while (i < p.length) {
    const c = p[i];
    if (c === '\\') {
      if (i + 1 >= p.length) throw new BadPatternError(pattern);
      i += 2;
    } else if (c === '[') {
      i = classEnd(p, i + 1, pattern);
    } else i++;
  }
}

/** True when the text contains an unescaped `*`, `?` or `[` (BuildKit's containsWildcards). */
export function hasWildcards(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

/**
 * A pattern that matches exactly `path` (`*`, `?`, `[` and `\` each put in a class of their
 * own), or `path` itself when it has none: for a name that is not the user's pattern.
 */
export function literalPattern(path: string): string {
  return /[*?[\\]/.test(path) ? path.replace(/[*?[\\]/g, (c) => (c === '\\' ? '[\\\\]' : `[${c}]`)) : path;
}

/** Index just past the `]` closing a class that starts at `i` (after `[`). */
function classEnd(p: string[], i: number, pattern: string): number {
  if (p[i] === '^') i++;
  let n = 0;
  for (;;) {
    if (i >= p.length) throw new BadPatternError(pattern);
    if (p[i] === ']' && n > 0) return i + 1;
    i = escChar(p, i, pattern).next;
    if (p[i] === '-') i = escChar(p, i + 1, pattern).next;
    n++;
  }
}

function escChar(p: string[], i: number, pattern: string): { ch: string; next: number } {
  if (i >= p.length || p[i] === '-' || p[i] === ']') throw new BadPatternError(pattern);
  if (p[i] === '\\') {
    i++;
    if (i >= p.length) throw new BadPatternError(pattern);
  }
  if (i + 1 >= p.length) throw new BadPatternError(pattern); // a class must be closed
  return { ch: p[i], next: i + 1 };
}

function matchFrom(p: string[], pi: number, s: string[], si: number, pattern: string): boolean {
  while (pi < p.length) {
    const c = p[pi];
    if (c === '*') {
      while (p[pi] === '*') pi++;
      if (pi === p.length) return !s.slice(si).includes('/');
      for (let k = si; k <= s.length; k++) {
        if (matchFrom(p, pi, s, k, pattern)) return true;
        if (k < s.length && s[k] === '/') return false;
      }
      return false;
    }
    if (si >= s.length) return false;
    if (c === '?') {
      if (s[si] === '/') return false;
      pi++;
      si++;
    } else if (c === '[') {
      const end = classEnd(p, pi + 1, pattern);
      if (!classMatches(p, pi + 1, s[si], pattern)) return false;
      pi = end;
      si++;
    } else {
      let lit = c;
      if (c === '\\') {
        if (pi + 1 >= p.length) throw new BadPatternError(pattern);
        lit = p[++pi];
      }
      if (s[si] !== lit) return false;
      pi++;
      si++;
    }
  }
  return si === s.length;
}

function classMatches(p: string[], i: number, ch: string, pattern: string): boolean {
  let negated = false;
  if (p[i] === '^') {
    negated = true;
    i++;
  }
  const r = ch.codePointAt(0)!;
  let matched = false;
  let n = 0;
  for (;;) {
    if (p[i] === ']' && n > 0) break;
    const lo = escChar(p, i, pattern);
    i = lo.next;
    let hi = lo.ch;
    if (p[i] === '-') {
      const h = escChar(p, i + 1, pattern);
      hi = h.ch;
      i = h.next;
    }
    if (lo.ch.codePointAt(0)! <= r && r <= hi.codePointAt(0)!) matched = true;
    n++;
  }
  return matched !== negated;
}
