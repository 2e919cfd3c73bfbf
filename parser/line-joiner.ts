import { isGoSpace, trimLeftGoSpace } from './go-text.js';
import type { PhysicalLine } from './source.js';

/**
 * Continuation lines (BuildKit's Parse loop): a line ending in the escape character (plus
 * blanks), not itself escaped, continues on the next line with no separator. Comment lines
 * inside are dropped; empty ones are dropped with a warning.
 */
export function isCommentLine(text: string): boolean {
  return trimLeftGoSpace(text).startsWith('#');
}

export function leadingSpace(text: string): number {
  let i = 0;
  while (i < text.length && isGoSpace(text[i])) i++;
  return i;
}

/** Removes a trailing continuation (escape + blanks); `continues` tells whether there was one. */
export function trimContinuation(text: string, escape: string): { text: string; continues: boolean } {
  let j = text.length;
  while (j > 0 && (text[j - 1] === ' ' || text[j - 1] === '\t')) j--;
  if (j === 0 || text[j - 1] !== escape) return { text, continues: false };
  const k = j - 1;
  // `\\` at the end is an escaped escape, not a continuation (the `([^\\])\\[ \t]*$` rule).
  if (k > 0 && text[k - 1] === escape) return { text, continues: false };
  return { text: text.slice(0, k), continues: true };
}

export interface LogicalLine {
  text: string;
  first: PhysicalLine;
  /** Index of the next unread physical line. */
  next: number;
  hasEmptyContinuation: boolean;
}

/**
 * Joins the instruction that starts at `lines[start]` (already left-trimmed to `firstText`)
 * with its continuation lines. `tooLong` is called on each line read and stops the join.
 */
export function joinContinuations(
  lines: readonly PhysicalLine[],
  start: number,
  firstText: string,
  escape: string,
  tooLong: (line: PhysicalLine) => boolean,
): LogicalLine {
  let { text, continues } = trimContinuation(firstText, escape);
  const parts = [text];
  let i = start + 1;
  let hasEmptyContinuation = false;
  while (continues && i < lines.length) {
    const line = lines[i];
    if (tooLong(line)) break;
    i++;
    if (isCommentLine(line.text)) continue;
    if (trimLeftGoSpace(line.text).length === 0) {
      hasEmptyContinuation = true;
      continue;
    }
    ({ text, continues } = trimContinuation(line.text, escape));
    parts.push(text);
  }
  return { text: parts.join(''), first: lines[start], next: i, hasEmptyContinuation };
}
