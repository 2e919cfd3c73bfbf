import { ShellWords } from './shell-words.js';
import { goReplacement, shellPatternToRegExp, trimPrefix, trimSuffix } from './shell-pattern.js';

/**
 * BuildKit's shell lexer (frontend/dockerfile/shell/lex.go): quote removal, escapes and
 * `$VAR`/`${VAR...}` substitution on one word, plus word splitting after substitution.
 * Pure: no process environment, no I/O. Failures throw `ShellLexError`.
 */
export class ShellLexError extends Error {}

/**
 * The most a word may expand to, in UTF-8 bytes. BuildKit has no limit: 39 chained
 * `ENV a=$a$a` lines ask for 2^39 bytes. Far more than any real path, label or argument.
 */
export const MAX_WORD_BYTES = 1 << 20;

/** A word (or a `${…}` inside it) that expands past MAX_WORD_BYTES. */
export class WordTooLargeError extends Error {}

export interface LexOptions {
  escape: string;
  /** Keep quote characters in the result (heredoc detection). */
  rawQuotes?: boolean;
  /** Keep escape characters in the result (heredoc detection). */
  rawEscapes?: boolean;
  /** Leave references to unset variables as written. */
  skipUnsetEnv?: boolean;
  /** Quotes are plain characters (a heredoc body: BuildKit's SkipProcessQuotes). */
  skipProcessQuotes?: boolean;
}

export interface LexResult {
  value: string;
  words: string[];
  /** Variables referenced and found. */
  matched: Set<string>;
  /** Variables referenced and not set. */
  unmatched: Set<string>;
}

const EOF = '';

export function lexWord(word: string, env: ReadonlyMap<string, string>, opts: LexOptions): LexResult {
  const lexer = new Lexer(word, env, opts);
  const { value, words } = lexer.processStopOn(EOF, opts.rawEscapes ?? false);
  // The checks on the way count UTF-16 units, never more than the UTF-8 bytes: this is the exact one.
  if (value.length * 3 > MAX_WORD_BYTES && Buffer.byteLength(value, 'utf8') > MAX_WORD_BYTES) throw new WordTooLargeError();
  return { value, words, matched: lexer.matched, unmatched: lexer.unmatched };
}

/**
 * `result + piece`, refused once it passes MAX_WORD_BYTES in UTF-16 units (each at least one
 * UTF-8 byte), before the string is built: growth is stopped where it happens.
 */
function grown(result: string, piece: string): string {
  if (result.length + piece.length > MAX_WORD_BYTES) throw new WordTooLargeError();
  return result + piece;
}

class Lexer {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(word: string, private readonly env: ReadonlyMap<string, string>, private readonly opts: LexOptions) {
    this.chars = Array.from(word);
    // Go's text/scanner skips a byte-order mark at the very start.
    if (this.chars[0] === '\ufeff') this.pos = 1;
    this.rawEscapes = opts.rawEscapes ?? false;
  }

  private peek(): string {
    return this.pos < this.chars.length ? this.chars[this.pos] : EOF;
  }

  private next(): string {
    return this.pos < this.chars.length ? this.chars[this.pos++] : EOF;
  }

  processStopOn(stop: string, rawEscapes: boolean): { value: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.scan(stop);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private scan(stop: string): { value: string; words: string[] } {
    let result = '';
    const words = new ShellWords();
    const esc = this.opts.escape;
    while (this.peek() !== EOF) {
      let ch = this.peek();
      if (stop !== EOF && ch === stop) {
        this.next();
        return { value: result, words: words.result() };
      }
      if (ch === '$') {
        const tmp = this.processDollar();
        result = grown(result, tmp);
        words.addString(tmp);
      } else if (ch === "'" && !this.opts.skipProcessQuotes) {
        const tmp = this.processSingleQuote();
        result += tmp;
        words.addRawString(tmp);
      } else if (ch === '"' && !this.opts.skipProcessQuotes) {
        const tmp = this.processDoubleQuote();
        result += tmp;
        words.addRawString(tmp);
      } else {
        ch = this.next();
        if (ch === esc) {
          if (this.rawEscapes) {
            words.addRawChar(ch);
            result += ch;
          }
          ch = this.next();
          if (ch === EOF) break;
          words.addRawChar(ch);
        } else {
          words.addChar(ch);
        }
        result += ch;
      }
    }
    if (stop !== EOF) throw new ShellLexError(`unexpected end of statement while looking for matching ${stop}`);
    return { value: result, words: words.result() };
  }

  private processSingleQuote(): string {
    let result = '';
    let ch = this.next();
    if (this.opts.rawQuotes) result += ch;
    for (;;) {
      ch = this.next();
      if (ch === EOF) throw new ShellLexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    let result = '';
    const esc = this.opts.escape;
    const first = this.next();
    if (this.opts.rawQuotes) result += first;
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new ShellLexError('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        const ch = this.next();
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      if (p === '$') {
        result = grown(result, this.processDollar());
        continue;
      }
      let ch = this.next();
      if (ch === esc) {
        if (this.rawEscapes) result += ch;
        const after = this.peek();
        if (after === EOF) continue;
        if (after === '"' || after === '$' || after === esc) ch = this.next();
      }
      result += ch;
    }
  }

  private getEnv(name: string): string | undefined {
    const v = this.env.get(name);
    if (v === undefined) this.unmatched.add(name);
    else this.matched.add(name);
    return v;
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.getEnv(name);
      if (value === undefined && this.opts.skipUnsetEnv) return '$' + name;
      return value ?? '';
    }
    this.next();
    const p = this.peek();
    if (p === EOF) throw new ShellLexError("syntax error: missing '}'");
    if (p === '{' || p === '}' || p === ':') throw new ShellLexError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    let chs = ch === EOF ? '\ufffd' : ch;
    let nullIsUnset = false;
    switch (ch) {
      case '}': {
        const value = this.getEnv(name);
        if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}}`;
        return value ?? '';
      }
      case ':':
        nullIsUnset = true;
        ch = this.next();
        chs += ch === EOF ? '\ufffd' : ch;
        return this.modifier(name, ch, chs, nullIsUnset);
      case '+': case '-': case '?': case '#': case '%':
        return this.modifier(name, ch, chs, nullIsUnset);
      case '/':
        return this.replace(name);
      default:
        if (ch === EOF) throw new ShellLexError("syntax error: missing '}'");
        throw new ShellLexError(`unsupported modifier (${chs}) in substitution`);
    }
  }

  private modifier(name: string, ch: string, chs: string, nullIsUnset: boolean): string {
    const rawEscapes = ch === '#' || ch === '%';
    if (nullIsUnset && rawEscapes) throw new ShellLexError(`unsupported modifier (${chs}) in substitution`);
    let word: string;
    try {
      word = this.processStopOn('}', rawEscapes).value;
    } catch (e) {
      if (this.peek() === EOF) throw new ShellLexError("syntax error: missing '}'");
      throw e;
    }
    const value = this.getEnv(name);
    if (this.opts.skipUnsetEnv && value === undefined) return `\${${name}${chs}${word}}`;
    const isUnset = value === undefined || (nullIsUnset && value === '');
    switch (ch) {
      case '-':
        return isUnset ? word : value!;
      case '+':
        return isUnset ? '' : word;
      case '?':
        if (value === undefined) throw new ShellLexError(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '') throw new ShellLexError(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
        return value;
      case '%':
      case '#': {
        // `%`/`#` remove the shortest match, `%%`/`##` the longest.
        const greedy = word.length > 0 && word[0] === ch;
        const pattern = greedy ? word.slice(1) : word;
        return ch === '%' ? trimSuffix(pattern, value ?? '', greedy) : trimPrefix(pattern, value ?? '', greedy);
      }
      default:
        throw new ShellLexError(`unsupported modifier (${chs}) in substitution`);
    }
  }

  private replace(name: string): string {
    const replaceAll = this.peek() === '/';
    if (replaceAll) this.next();
    let pattern: string;
    let replacement: string;
    try {
      pattern = this.processStopOn('/', true).value;
    } catch (e) {
      if (this.peek() === EOF) throw new ShellLexError("syntax error: missing '/' in ${}");
      throw e;
    }
    try {
      replacement = this.processStopOn('}', true).value;
    } catch (e) {
      if (this.peek() === EOF) throw new ShellLexError("syntax error: missing '}'");
      throw e;
    }
    const value = this.getEnv(name);
    if (this.opts.skipUnsetEnv && value === undefined) return `\${${name}/${pattern}/${replacement}}`;
    const re = shellPatternToRegExp(pattern, { greedy: true, anchored: false, global: replaceAll });
    const subject = value ?? '';
    let size = subject.length;
    return subject.replace(re, (m: string) => {
      const r = replaceAll ? goReplacement(replacement, m) : replacement;
      size += r.length - m.length;
      if (size > MAX_WORD_BYTES) throw new WordTooLargeError();
      return r;
    });
  }

  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name.length === 0 && /^\p{Nd}$/u.test(ch)) {
        while (this.peek() !== EOF && /^\p{Nd}$/u.test(this.peek())) name += this.next();
        return name;
      }
      if (name.length === 0 && '@*#?-$!0'.includes(ch)) return this.next();
      if (!/^[\p{L}\p{Nd}_]$/u.test(ch)) break;
      name += this.next();
    }
    return name;
  }
}
