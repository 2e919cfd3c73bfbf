import { isAbsolute, relative } from 'node:path';
import type { SourceRange, UserError } from '../common/index.js';

/**
 * How every UserError reads on a terminal (STYLE.md §4):
 *
 *   Dockerfile:7:1: error[unknown-instruction]: unknown instruction "RUNN"
 *      6 | FROM debian:12
 *      7 | RUNN apt-get update
 *        | ^^^^
 *     hint: did you mean RUN?
 *
 * `sources` maps a range's file to its text; without it only the first line is printed.
 */
export function renderError(err: UserError, sources: ReadonlyMap<string, string>): string {
  const where = err.where;
  const out: string[] = [];
  if (where === undefined) {
    out.push(`error[${err.code}]: ${err.message}`);
  } else if (typeof where === 'string') {
    out.push(`error[${err.code}]: ${err.message}${err.message.includes(where) ? '' : ` (${where})`}`);
  } else {
    out.push(`${displayPath(where.file)}:${where.start.line}:${where.start.column}: error[${err.code}]: ${err.message}`);
    const text = sources.get(where.file);
    if (text !== undefined) out.push(...snippet(text, where));
  }
  if (err.detail) out.push(...err.detail.replace(/\n+$/, '').split('\n').map((l) => `  ${l}`));
  if (err.hint) out.push(`  hint: ${err.hint}`);
  return out.join('\n');
}

/** A path under the current directory is shown relative to it, as the user typed it. */
export function displayPath(file: string): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function sourceLines(text: string): string[] {
  return text.replace(/^\ufeff/, '').split('\n').map((l) => l.replace(/\r+$/, ''));
}

/** The previous line (unless blank), the offending line, and a caret line under the range. */
export function snippet(text: string, where: SourceRange): string[] {
  const lines = sourceLines(text);
  const n = where.start.line;
  if (n < 1 || n > lines.length) return [];
  const line = lines[n - 1];
  const width = Math.max(4, String(n).length);
  const gutter = (num: number | '') => `${String(num).padStart(width)} | `;
  const out: string[] = [];
  if (n > 1 && lines[n - 2].trim() !== '') out.push(gutter(n - 1) + clip(lines[n - 2]));
  out.push(gutter(n) + clip(line));
  const from = Math.min(Math.max(where.start.column - 1, 0), line.length);
  const to = where.end.line === n ? Math.min(Math.max(where.end.column - 1, from + 1), Math.max(line.length, from + 1)) : Math.max(line.length, from + 1);
  // Keep tabs in the caret's indent so the carets line up under tabbed source.
  const indent = line.slice(0, from).replace(/[^\t]/g, ' ');
  out.push(`${' '.repeat(width)} | ${clip(indent)}${'^'.repeat(Math.min(to - from, 200))}`);
  return out;
}

/** Very long lines are cut so a message stays readable. */
function clip(s: string): string {
  return s.length > 200 ? s.slice(0, 200) + '…' : s;
}
