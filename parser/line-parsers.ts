import { isGoSpace, reWhitespace, trimGoSpace, trimLeftGoSpace } from './go-text.js';
import { parseExecForm } from './exec-form.js';

/**
 * How each instruction's argument text becomes BuildKit's argument nodes (the dispatch table
 * of parser.go and line_parsers.go). No expansion and no quote removal happen here.
 */
export interface LineArgs {
  args: string[];
  isJson: boolean;
  /** For ONBUILD: the nested instruction line. */
  sub?: string;
}

/** A problem found while splitting a line; the caller attaches the location. */
export class LineError extends Error {
  constructor(
    readonly code: 'env-needs-value' | 'missing-equals' | 'json-not-strings',
    message: string,
    readonly keyword = '',
  ) {
    super(message);
  }
}

/** Splits `KEYWORD --flags rest` (BuildKit's splitCommand + extractBuilderFlags). */
export function splitCommand(line: string): { keyword: string; flags: string[]; rest: string } {
  const trimmed = trimGoSpace(line);
  const m = /[\t\v\f\r ]+/.exec(trimmed);
  const keyword = m ? trimmed.slice(0, m.index) : trimmed;
  if (!m) return { keyword, flags: [], rest: '' };
  const { rest, flags } = extractBuilderFlags(trimmed.slice(m.index + m[0].length));
  return { keyword, flags, rest: trimGoSpace(rest) };
}

/** Leading `--` words: quotes removed, `\` escapes the next character, a lone `--` ends them. */
export function extractBuilderFlags(line: string): { rest: string; flags: string[] } {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    const ch = pos < line.length ? line[pos] : '';
    if (phase === 'spaces') {
      if (pos === line.length) break;
      if (isGoSpace(ch)) continue;
      if (ch !== '-' || pos + 1 === line.length || line[pos + 1] !== '-') return { rest: line.slice(pos), flags: words };
      phase = 'word';
    }
    if (pos === line.length) {
      if (word !== '--' && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isGoSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return { rest: line.slice(pos), flags: words };
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      let c = ch;
      if (c === '\\') {
        if (pos + 1 === line.length) continue;
        c = line[++pos];
      }
      word += c;
      continue;
    }
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    let c = ch;
    if (c === '\\') {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      c = line[++pos];
    }
    word += c;
  }
  return { rest: '', flags: words };
}

/** BuildKit's parseWords (ENV, LABEL, ARG): white-space separated, quotes and escapes kept. */
export function parseWords(rest: string, escape: string): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = pos < chars.length ? chars[pos] : '';
    if (phase === 'spaces') {
      if (pos === chars.length) break;
      if (isGoSpace(ch)) continue;
      phase = 'word';
    }
    if (pos === chars.length) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isGoSpace(ch)) {
        phase = 'spaces';
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue;
        // An unquoted escape keeps itself and the next character, even a quote.
        word += ch;
        ch = chars[++pos];
      }
      word += ch;
      continue;
    }
    if (ch === quote) phase = 'word';
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      word += ch;
      ch = chars[++pos];
    }
    word += ch;
  }
  return words;
}

function whitespaceDelimited(rest: string): string[] {
  return rest === '' ? [] : rest.split(reWhitespace);
}

function nameVal(rest: string, keyword: string, escape: string): string[] {
  const words = parseWords(rest, escape);
  if (words.length === 0) return [];
  if (!words[0].includes('=')) {
    const m = reWhitespace.exec(rest);
    if (!m) throw new LineError('env-needs-value', `${keyword} must have two arguments`, keyword);
    return [rest.slice(0, m.index), rest.slice(m.index + m[0].length), ''];
  }
  const out: string[] = [];
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq < 0) throw new LineError('missing-equals', w, keyword);
    out.push(w.slice(0, eq), w.slice(eq + 1), '=');
  }
  return out;
}

function maybeJson(rest: string): LineArgs {
  if (rest === '') return { args: [], isJson: false };
  const r = parseExecForm(trimLeftGoSpace(rest));
  if (r.kind === 'array') return { args: r.items, isJson: true };
  if (r.kind === 'not-strings') throw new LineError('json-not-strings', rest);
  return { args: [rest], isJson: false };
}

function maybeJsonToList(rest: string): LineArgs {
  const r = parseExecForm(trimLeftGoSpace(rest));
  if (r.kind === 'array') return { args: r.items, isJson: true };
  if (r.kind === 'not-strings') throw new LineError('json-not-strings', rest);
  return { args: whitespaceDelimited(rest), isJson: false };
}

/** HEALTHCHECK: the first word (CMD, NONE, …) as written, then the rest like CMD's arguments. */
function health(rest: string): LineArgs {
  let sep = 0;
  while (sep < rest.length && !isAsciiSpace(rest[sep])) sep++;
  let next = sep;
  while (next < rest.length && isAsciiSpace(rest[next])) next++;
  if (sep === 0) return { args: [], isJson: false };
  const cmd = maybeJson(rest.slice(next));
  return { args: [rest.slice(0, sep), ...cmd.args], isJson: cmd.isJson };
}

function isAsciiSpace(ch: string): boolean {
  return ch === ' ' || (ch >= '\t' && ch <= '\r');
}

/** The argument nodes of one instruction (its keyword lower-cased picks the rule). */
export function splitArgs(keyword: string, rest: string, escape: string): LineArgs {
  switch (keyword.toLowerCase()) {
    case 'add': case 'copy': case 'volume':
      return maybeJsonToList(rest);
    case 'run': case 'cmd': case 'entrypoint': case 'shell':
      return maybeJson(rest);
    case 'from': case 'expose':
      return { args: whitespaceDelimited(rest), isJson: false };
    case 'env':
      return { args: nameVal(rest, 'ENV', escape), isJson: false };
    case 'label':
      return { args: nameVal(rest, 'LABEL', escape), isJson: false };
    case 'arg':
      return { args: parseWords(rest, escape), isJson: false };
    case 'maintainer': case 'stopsignal': case 'user': case 'workdir':
      return { args: rest === '' ? [] : [rest], isJson: false };
    case 'healthcheck':
      return health(rest);
    case 'onbuild':
      return { args: [], isJson: false, sub: rest === '' ? undefined : rest };
    default:
      // BuildKit keeps unknown instructions with one empty argument; the typed pass rejects them.
      return { args: [''], isJson: false };
  }
}
