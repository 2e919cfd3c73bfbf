import { ShellLexError } from './shell-lexer.js';

/**
 * The shell wildcard patterns of `${a#p}`, `${a%p}` and `${a/p/r}` (BuildKit's
 * convertShellPatternToRegex): `?` one character, `*` any run, `\` escapes `*`, `?` and `\`
 * (and `}`/`/`, which only need escaping inside `${}`). No bracket expressions.
 */
export function shellPatternToRegExp(pattern: string, opts: { greedy: boolean; anchored: boolean; global?: boolean }): RegExp {
  const toks = Array.from(pattern);
  let out = opts.anchored ? '^' : '';
  // Go's `.` matches any rune but `\n`; JavaScript's also excludes `\r` and U+2028/9.
  const any = '[^\\n]';
  const star = opts.greedy ? `${any}*` : `${any}*?`;
  for (let i = 0; i < toks.length; i++) {
    let tok = toks[i];
    switch (tok) {
      case '*':
        out += star;
        continue;
      case '?':
        out += any;
        continue;
      case '\\': {
        const after = toks[i + 1];
        if (after === '}' || after === '/') continue;
        out += '\\';
        tok = toks[++i] ?? '';
        if (tok !== '*' && tok !== '?' && tok !== '\\') throw new ShellLexError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${tok}'`);
        break;
      }
      case '[': case ']': case '{': case '}': case '.': case '+': case '(': case ')': case '|': case '^': case '$':
        out += '\\';
        break;
    }
    out += tok;
  }
  return new RegExp(out, opts.global ? 'gu' : 'u');
}

export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegExp(pattern, { greedy, anchored: true }).exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

/** Reverses a pattern but keeps each escape before the character it escapes (`a\*c` → `c\*a`). */
export function reversePattern(pattern: string): string {
  const runes = Array.from(pattern);
  const out: string[] = new Array(runes.length);
  const last = runes.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = runes[i];
    const outIdx = last - i;
    if (tok === '\\' && i !== last) {
      out[outIdx - 1] = tok;
      out[outIdx] = runes[i + 1];
      i += 2;
    } else {
      out[outIdx] = tok;
      i++;
    }
  }
  return out.join('');
}

function reverseString(s: string): string {
  return Array.from(s).reverse().join('');
}

/** The shortest (or longest) suffix match, found as a prefix match on the reversed strings. */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

/** Go's `Regexp.ReplaceAllString` template: `$$` is `$`, `$0`/`${0}` the match, other names empty. */
export function goReplacement(template: string, match: string): string {
  return template.replace(/\$(\$|\{([^}]*)\}|([A-Za-z0-9_]+))/g, (whole, d: string, braced?: string, bare?: string) => {
    if (d === '$') return '$';
    const name = braced ?? bare ?? '';
    if (braced !== undefined && !/^[A-Za-z0-9_]+$/.test(braced)) return whole;
    return /^[0-9]+$/.test(name) && Number(name) === 0 ? match : '';
  });
}
