/**
 * Go's text rules the Dockerfile format inherits from BuildKit: which runes are white space
 * (`unicode.IsSpace`, narrower than JavaScript's `\s`), `strings.TrimSpace`, and `strconv.Quote`
 * as used by BuildKit's `Node.Dump()`.
 */

/** Go's `unicode.IsSpace`: Latin-1 spaces plus the Unicode White_Space property (no U+FEFF). */
export function isGoSpace(ch: string): boolean {
  switch (ch) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ': case '\u0085': case '\u00a0':
    case '\u1680': case '\u2028': case '\u2029': case '\u202f': case '\u205f': case '\u3000':
      return true;
    default:
      return ch >= '\u2000' && ch <= '\u200a';
  }
}

/** Go's `strings.TrimLeftFunc(s, unicode.IsSpace)`. */
export function trimLeftGoSpace(s: string): string {
  let i = 0;
  while (i < s.length && isGoSpace(s[i])) i++;
  return s.slice(i);
}

/** Go's `strings.TrimSpace`. */
export function trimGoSpace(s: string): string {
  let end = s.length;
  while (end > 0 && isGoSpace(s[end - 1])) end--;
  return trimLeftGoSpace(s.slice(0, end));
}

/** BuildKit's `reWhitespace` (`[\t\v\f\r ]+`), the separator of whitespace-split arguments. */
export const reWhitespace = /[\t\v\f\r ]+/;

const ESCAPES: Record<string, string> = {
  '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v',
  '"': '\\"', '\\': '\\\\',
};

/** Go's `unicode.IsPrint` approximated with Unicode categories: letters, marks, numbers, punctuation, symbols, and ASCII space. */
function isGoPrint(ch: string): boolean {
  if (ch === ' ') return true;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** Go's `strconv.Quote`: double-quoted, Go escapes, printable non-ASCII runes kept as they are. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const esc = ESCAPES[ch];
    if (esc !== undefined) { out += esc; continue; }
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) { out += '\ufffd'; continue; }
    if (cp < 0x80) { out += cp >= 0x20 && cp < 0x7f ? ch : `\\x${hex(cp, 2)}`; continue; }
    if (isGoPrint(ch)) { out += ch; continue; }
    out += cp <= 0xffff ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`;
  }
  return out + '"';
}

/** Go's `fmt.Sprintf("%q", []string{...})`: `["a" "b"]`. */
export function goQuoteList(items: readonly string[]): string {
  return `[${items.map(goQuote).join(' ')}]`;
}
