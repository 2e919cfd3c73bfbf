import { lexWord, ShellLexError } from './shell-lexer.js';

/**
 * Heredoc words on an instruction line (`<<EOF`, `<<-EOF`, `3<<"EOF"`), found as BuildKit's
 * heredocsFromLine does: the line is split into shell words (quotes and escapes kept, unset
 * variables left as written) and each word is matched against `^(\d*)<<(-?)\s*([^<]*)$`.
 */
export interface Heredoc {
  name: string;
  content: string;
  /** False when any part of the name was quoted: the body is then taken literally. */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from the body when it is used (it is stored as written). */
  chomp: boolean;
  fd: number;
}

const RE_HEREDOC = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/s;
const NO_ENV: ReadonlyMap<string, string> = new Map();

/** The heredoc a single word declares, if it is one (BuildKit's ParseHeredoc). */
export function parseHeredocWord(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = RE_HEREDOC.exec(word);
  if (!m || m[3].length === 0) return undefined;
  const rest = m[3];
  const words = lexWord(rest, NO_ENV, { escape: '\\', skipUnsetEnv: true }).words;
  if (words.length !== 1) return undefined;
  const raw = lexWord(rest, NO_ENV, { escape: '\\', skipUnsetEnv: true, rawQuotes: true }).words;
  const quotes = (s: string) => (s.match(/['"]/g) ?? []).length;
  return {
    name: words[0],
    expand: quotes(words[0]) === quotes(raw[0] ?? ''),
    chomp: m[2] === '-',
    fd: Number.isSafeInteger(Number(m[1])) ? Number(m[1]) : 0,
  };
}

/** Every heredoc declared on a logical line, in order. */
export function heredocsOnLine(line: string): Omit<Heredoc, 'content'>[] {
  let words: string[];
  try {
    words = lexWord(line, NO_ENV, { escape: '\\', rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).words;
  } catch (e) {
    if (e instanceof ShellLexError) return [];
    throw e;
  }
  const docs: Omit<Heredoc, 'content'>[] = [];
  for (const w of words) {
    let doc: Omit<Heredoc, 'content'> | undefined;
    try {
      doc = parseHeredocWord(w);
    } catch (e) {
      if (!(e instanceof ShellLexError)) throw e;
      throw new HeredocNameError(w, e.message);
    }
    if (doc) docs.push(doc);
  }
  return docs;
}

/** A heredoc word whose name cannot be read (BuildKit fails the parse). */
export class HeredocNameError extends Error {
  constructor(readonly word: string, readonly reason: string) {
    super(reason);
  }
}

/** Strips leading tabs from each line of a `<<-` body. */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, '');
}

/** BuildKit's MustParseHeredoc: like parseHeredocWord, but a name that cannot be read means "not a heredoc". */
export function mustParseHeredocWord(word: string): Omit<Heredoc, 'content'> | undefined {
  try {
    return parseHeredocWord(word);
  } catch (e) {
    if (e instanceof ShellLexError) return undefined;
    throw e;
  }
}
