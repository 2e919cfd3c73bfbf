import { UserError } from '../common/index.js';
import { BadPatternError, checkSyntax } from './glob.js';

/**
 * Docker's exact .dockerignore semantics: BuildKit's `dockerignore.ReadAll` for the file
 * (comments only in column 1, trimmed lines, filepath.Clean, leading `/` dropped) and
 * moby/patternmatcher for matching (patterns anchored at the context root, `*`/`?` inside one
 * component, `**` across components, `!` exceptions, last match wins, a pattern matching a
 * parent directory matches everything below it, as fsutil's walker applies it).
 * The `ignore` npm package implements .gitignore rules (unanchored `*.md`, …), which differ.
 */
export interface Matcher {
  /** Is the slash-separated path (relative to the context root) excluded from the context? */
  isExcluded(relPath: string, isDir?: boolean): boolean;
  /** For pruning walks: false when nothing below `relDir` can be included (see fsutil filter.go). */
  mayHaveIncludedChildren(relDir: string): boolean;
  /** The cleaned patterns, `!` kept, in file order. */
  readonly patterns: readonly string[];
}

/** Parse a .dockerignore text into a matcher. Throws UserError 'dockerignore-bad-pattern'. */
export function parseDockerignore(text: string, fileName = '.dockerignore'): Matcher {
  return compilePatterns(readIgnoreLines(text), fileName);
}

/** BuildKit's ReadAll: the pattern list of an ignore file. */
export function readIgnoreLines(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const raw of lines) {
    // Only a `#` in column 1 starts a comment: ` #x` is a pattern.
    if (raw.startsWith('#')) continue;
    let p = raw.trim();
    if (p === '') continue;
    const invert = p[0] === '!';
    if (invert) p = p.slice(1).trim();
    if (p.length > 0) {
      p = cleanPath(p);
      if (p.length > 1 && p[0] === '/') p = p.slice(1);
    }
    out.push(invert ? '!' + p : p);
  }
  return out;
}

/**
 * patternmatcher.New: compile patterns (also used for COPY --exclude). Each pattern is trimmed
 * and cleaned; `!` marks an exception. Throws UserError for `!` alone or a malformed pattern.
 */
export function compilePatterns(patterns: readonly string[], what = '.dockerignore'): Matcher {
  const compiled: Pattern[] = [];
  for (let p of patterns) {
    p = p.trim();
    if (p === '') continue;
    p = cleanPath(p);
    let exclusion = false;
    if (p[0] === '!') {
      if (p.length === 1) throw badPattern(what, '!', 'illegal exclusion pattern: "!"');
      exclusion = true;
      p = p.slice(1);
    }
    try {
      checkSyntax(p);
    } catch (e) {
      if (e instanceof BadPatternError) throw badPattern(what, p, 'syntax error in pattern');
      throw e;
    }
    compiled.push(compile(p, exclusion));
  }
  return new PatternMatcher(compiled);
}

function badPattern(what: string, pattern: string, reason: string): UserError {
  return new UserError('dockerignore-bad-pattern', `${what}: invalid pattern ${JSON.stringify(pattern)}: ${reason}`, {
    where: what,
  });
}

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

interface Pattern {
  cleaned: string;
  exclusion: boolean;
  type: MatchType;
  regexp?: RegExp;
}

const ESCAPE = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

/** patternmatcher's Pattern.compile: the match type and, when needed, a regexp. */
function compile(pattern: string, exclusion: boolean): Pattern {
  let re = '^';
  let type: MatchType = 'exact';
  const chars = Array.from(pattern);
  let inClass = false;
  for (let i = 0, k = 0; k < chars.length; i++) {
    const ch = chars[k++];
    if (ch === '*') {
      if (chars[k] === '*') {
        k++;
        if (chars[k] === '/') k++; // `**/` is treated as `**`
        if (k >= chars.length) {
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          re += '(.*/)?';
          type = 'regexp';
        }
        if (i === 0) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if (ESCAPE.has(ch)) {
      re += '\\' + ch;
    } else if (ch === '\\') {
      if (k < chars.length) {
        re += escapeLiteral(chars[k++]);
        type = 'regexp';
      } else re += '\\\\';
    } else if (ch === '[' || ch === ']') {
      re += ch;
      inClass = ch === '[';
      type = 'regexp';
    } else if (inClass) {
      re += ch; // ranges and `^` negation pass through to the regexp, as in patternmatcher
    } else if (ch === '^') {
      // Go's regexp treats an unescaped ^ as an anchor, so the pattern never matches there.
      re += '(?!)';
    } else {
      re += escapeLiteral(ch);
    }
  }
  const p: Pattern = { cleaned: pattern, exclusion, type };
  if (type === 'regexp') p.regexp = new RegExp(re + '$', 'su');
  return p;
}

function escapeLiteral(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? '\\' + ch : ch;
}

function matchOne(p: Pattern, path: string): boolean {
  switch (p.type) {
    case 'exact':
      return path === p.cleaned;
    case 'prefix':
      return path.startsWith(p.cleaned.slice(0, -2));
    case 'suffix': {
      const suffix = p.cleaned.slice(2);
      if (path.endsWith(suffix)) return true;
      return suffix[0] === '/' && path === suffix.slice(1);
    }
    case 'regexp':
      return p.regexp!.test(path);
  }
}

/** Characters that make an exception pattern more than a plain path prefix (fsutil). */
const PATTERN_CHARS = /[*[\]?^\\]/;

class PatternMatcher implements Matcher {
  readonly patterns: readonly string[];
  private readonly dirInfo = new Map<string, boolean[]>();
  private readonly hasExceptions: boolean;
  private readonly onlyPrefixExceptions: boolean;
  private readonly exceptionPrefixes: string[];

  constructor(private readonly compiled: Pattern[]) {
    this.patterns = compiled.map((p) => (p.exclusion ? '!' : '') + p.cleaned);
    const exceptions = compiled.filter((p) => p.exclusion);
    this.hasExceptions = exceptions.length > 0;
    this.exceptionPrefixes = exceptions.map((p) => withoutTrailingGlob(p.cleaned) + '/');
    this.onlyPrefixExceptions = exceptions.every((p) => !PATTERN_CHARS.test(withoutTrailingGlob(p.cleaned)));
  }

  isExcluded(relPath: string): boolean {
    // No .dockerignore (or an empty one): nothing to clean the path for, 10,000 times.
    if (this.compiled.length === 0) return false;
    const path = cleanPath(relPath).replace(/^\/+/, '');
    if (path === '.' || path === '') return false;
    return this.evaluate(path, this.parentInfo(path)).matched;
  }

  mayHaveIncludedChildren(relDir: string): boolean {
    if (this.compiled.length === 0) return true;
    const dir = cleanPath(relDir).replace(/^\/+/, '');
    if (dir === '.' || dir === '') return true;
    if (!this.isExcluded(dir)) return true;
    if (!this.hasExceptions) return false;
    if (!this.onlyPrefixExceptions) return true;
    const dirSlash = dir + '/';
    return this.exceptionPrefixes.some((p) => p.startsWith(dirSlash));
  }

  /** Per-pattern match results of the parent directory (MatchesUsingParentResults), memoised. */
  private parentInfo(path: string): boolean[] | undefined {
    const i = path.lastIndexOf('/');
    if (i < 0) return undefined;
    return this.dirMatchInfo(path.slice(0, i));
  }

  private dirMatchInfo(dir: string): boolean[] {
    let info = this.dirInfo.get(dir);
    if (!info) {
      info = this.evaluate(dir, this.parentInfo(dir)).info;
      this.dirInfo.set(dir, info);
    }
    return info;
  }

  private evaluate(path: string, parent: boolean[] | undefined): { matched: boolean; info: boolean[] } {
    let matched = false;
    const info = new Array<boolean>(this.compiled.length).fill(false);
    this.compiled.forEach((p, i) => {
      let match = parent ? parent[i] : false;
      if (!match) {
        if (p.exclusion !== matched) return;
        match = matchOne(p, path);
      }
      info[i] = match;
      if (match) matched = !p.exclusion;
    });
    return { matched, info };
  }
}

function withoutTrailingGlob(p: string): string {
  if (p.endsWith('/**')) return p.slice(0, -3);
  if (p.endsWith('/*')) return p.slice(0, -2);
  return p;
}

/** Go's path.Clean for slash-separated paths. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
    } else out.push(part);
  }
  const s = out.join('/');
  if (rooted) return '/' + s;
  return s === '' ? '.' : s;
}
