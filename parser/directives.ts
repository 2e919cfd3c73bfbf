/**
 * Parser directives (`# syntax=`, `# escape=`, `# check=`): only in the comment lines at the
 * very top; the first line that is not one ends the search for good (BuildKit's DirectiveParser).
 */

export const DIRECTIVE_NAMES = ['syntax', 'escape', 'check'] as const;

/** `#` + name `=` value; Go's `\s` is `[\t\n\f\r ]`. */
const RE_DIRECTIVE = /^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/s;

export type DirectiveResult =
  | { kind: 'none' }
  | { kind: 'directive'; name: string; value: string }
  | { kind: 'duplicate'; name: string }
  | { kind: 'bad-escape'; value: string };

/** Scans lines in order; call `next` with each physical line (left-trimmed) until it stops looking. */
export class DirectiveScanner {
  private done = false;
  private readonly seen = new Map<string, string>();

  get isDone(): boolean {
    return this.done;
  }

  /** The directives found so far, lower-case names. */
  get found(): ReadonlyMap<string, string> {
    return this.seen;
  }

  next(line: string): DirectiveResult {
    if (this.done) return { kind: 'none' };
    const m = RE_DIRECTIVE.exec(line);
    const name = m?.[1].toLowerCase();
    if (!m || !name || !(DIRECTIVE_NAMES as readonly string[]).includes(name)) {
      this.done = true;
      return { kind: 'none' };
    }
    if (this.seen.has(name)) return { kind: 'duplicate', name };
    const value = m[2];
    if (name === 'escape' && value !== '\\' && value !== '`') return { kind: 'bad-escape', value };
    this.seen.set(name, value);
    return { kind: 'directive', name, value };
  }
}

/**
 * BuildKit's DetectSyntax fallbacks for `syntax` only: a leading `#!` line is skipped, and
 * `// syntax=x` or a JSON document `{"syntax": "x"}` are accepted too.
 */
export function detectSyntax(text: string): string | undefined {
  let lines = text.replace(/^\ufeff/, '').split('\n');
  if (lines[0]?.startsWith('#!')) lines = lines.slice(1);
  for (const prefix of ['#', '//']) {
    const re = new RegExp(`^${prefix}[\\t\\n\\f\\r ]*([a-zA-Z][a-zA-Z0-9]*)[\\t\\n\\f\\r ]*=[\\t\\n\\f\\r ]*(.+?)[\\t\\n\\f\\r ]*$`);
    const seen = new Set<string>();
    for (const line of lines) {
      const m = re.exec(line.replace(/\r$/, ''));
      const name = m?.[1].toLowerCase();
      if (!m || !name || !(DIRECTIVE_NAMES as readonly string[]).includes(name) || seen.has(name)) break;
      seen.add(name);
      if (name === 'syntax') return m[2];
    }
  }
  if (!lines.join('\n').trimStart().startsWith('{')) return undefined;
  try {
    const doc: unknown = JSON.parse(lines.join('\n'));
    const v = (doc as Record<string, unknown> | null)?.syntax;
    if (typeof v === 'string') return v;
  } catch {
    // not a JSON document
  }
  return undefined;
}
