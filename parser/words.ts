import { UserError } from '../common/index.js';
import { lexWord, MAX_WORD_BYTES, ShellLexError, WordTooLargeError } from './shell-lexer.js';
import { hints, messages } from './messages.js';

/**
 * Word expansion as Docker applies it to instruction arguments: `$a`, `${a}`, `${a:-x}`,
 * `${a:+x}`, `${a-x}`, `${a+x}`, `${a?x}`, `${a#p}`, `${a##p}`, `${a%p}`, `${a%%p}`,
 * `${a/p/r}`, `${a//p/r}`, quotes and escapes. Pure: the environment is an argument.
 */
export type WordEnv = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

export interface ExpandOptions {
  /** The escape character (`\` unless the Dockerfile's `escape` directive says otherwise). */
  escape?: string;
}

function toMap(env: WordEnv): ReadonlyMap<string, string> {
  if (env instanceof Map) return env;
  return new Map(Object.entries(env as Record<string, string>));
}

function run(word: string, env: WordEnv, opts: ExpandOptions & { skipProcessQuotes?: boolean }) {
  try {
    return lexWord(word, toMap(env), { escape: opts.escape ?? '\\', skipProcessQuotes: opts.skipProcessQuotes });
  } catch (e) {
    if (e instanceof ShellLexError) {
      throw new UserError('bad-substitution', messages['bad-substitution'](word, e.message));
    }
    if (e instanceof WordTooLargeError) {
      throw new UserError('word-too-large', messages['word-too-large'](word, MAX_WORD_BYTES), { hint: hints['word-too-large'] });
    }
    throw e;
  }
}

/**
 * One word, quotes removed and variables substituted (BuildKit's ProcessWord). `used` holds
 * the variables referenced that the environment defines, `unmatched` those it does not (the
 * build checks' UndefinedVar). Throws a UserError (no `where`) on a
 * malformed substitution (`bad-substitution`) or on a word that would expand past 1 MiB
 * (`word-too-large`); the caller attaches the location.
 */
export function expandWord(word: string, env: WordEnv, opts: ExpandOptions = {}): { value: string; used: Set<string>; unmatched: Set<string> } {
  const plain = plainValue(word, opts.escape ?? '\\');
  if (plain !== undefined) return { value: plain, used: new Set(), unmatched: new Set() };
  const r = run(word, env, opts);
  return { value: r.value, used: r.matched, unmatched: r.unmatched };
}

/**
 * What a word with no `$`, no single quote and no escape character expands to, without the
 * lexer: itself without its double quotes, when they pair up (inside them only `$`, `"` and
 * the escape are special). Most words of a Dockerfile are such; 10,000 LABELs spent 50 ms in
 * the lexer. Undefined for any other word (a lone `"` is the lexer's error to give).
 */
export function plainValue(word: string, escape: string): string | undefined {
  let quotes = 0;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c === 0x24 /* $ */ || c === 0x27 /* ' */) return undefined;
    if (c === 0x22 /* " */) quotes++;
  }
  // A leading byte-order mark is skipped by the lexer (Go's text/scanner); a huge word is its to refuse.
  if (quotes % 2 !== 0 || word.includes(escape) || word.charCodeAt(0) === 0xfeff || word.length * 3 > MAX_WORD_BYTES) return undefined;
  return quotes === 0 ? word : word.replaceAll('"', '');
}

/**
 * The body of a heredoc whose name is unquoted (`COPY <<EOF`), expanded as BuildKit's
 * ExpandRaw does (instructions/commands.go, dockerfile2llb dispatch): variables substituted,
 * backslash escapes applied (whatever the escape directive says), quotes kept as written.
 */
export function expandHeredocBody(body: string, env: WordEnv): string {
  return run(body, env, { escape: '\\', skipProcessQuotes: true }).value;
}

/** Like expandWord, then split into words where unquoted white space separates them (ProcessWords). */
export function expandWords(word: string, env: WordEnv, opts: ExpandOptions = {}): { values: string[]; used: Set<string>; unmatched: Set<string> } {
  const r = run(word, env, opts);
  return { values: r.words, used: r.matched, unmatched: r.unmatched };
}
