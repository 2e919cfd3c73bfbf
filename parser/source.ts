import type { Position, SourceRange } from '../common/index.js';

/**
 * The Dockerfile text as physical lines, as BuildKit's scanner reads them: split after each
 * `\n` (the ending is kept for heredoc bodies), a UTF-8 BOM dropped from the first line.
 */
export interface PhysicalLine {
  /** 1-based line number. */
  number: number;
  /** Offset of the line's first character in the text. */
  offset: number;
  /** The line with its ending (`\n`, `\r\n`) as read. */
  raw: string;
  /** The line without trailing `\r`/`\n` characters (Go's `bytes.TrimRight(line, "\r\n")`). */
  text: string;
  /** UTF-8 size including the ending, for BuildKit's 64 KiB line limit. */
  byteLength: number;
}

export interface SourceText {
  file: string;
  /** The decoded text, BOM included (offsets count from here). */
  text: string;
  lines: PhysicalLine[];
  /** Set when the bytes were not valid UTF-8 (they were replaced by U+FFFD). */
  invalidUtf8: boolean;
}

/** BuildKit's bufio.Scanner buffer: a line (ending included) may use at most 65536 bytes. */
export const MAX_LINE_BYTES = 65536;

const BOM = '\ufeff';

/** Decodes bytes as UTF-8 (invalid sequences become U+FFFD) and splits the text into lines. */
export function readSource(input: string | Uint8Array, file: string): SourceText {
  let text: string;
  let invalidUtf8 = false;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
    } catch {
      text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(input);
      invalidUtf8 = true;
    }
  }
  const lines: PhysicalLine[] = [];
  let offset = 0;
  let number = 0;
  while (offset < text.length) {
    const nl = text.indexOf('\n', offset);
    const end = nl < 0 ? text.length : nl + 1;
    let raw = text.slice(offset, end);
    let start = offset;
    number++;
    if (number === 1 && raw.startsWith(BOM)) {
      raw = raw.slice(1);
      start++;
    }
    lines.push({ number, offset: start, raw, text: trimNewline(raw), byteLength: Buffer.byteLength(raw, 'utf8') });
    offset = end;
  }
  return { file, text, lines, invalidUtf8 };
}

/** True when BuildKit's scanner refuses this line (it needs the whole line in its 64 KiB buffer). */
export function isLineTooLong(line: PhysicalLine): boolean {
  const hasNewline = line.raw.endsWith('\n');
  return hasNewline ? line.byteLength > MAX_LINE_BYTES : line.byteLength >= MAX_LINE_BYTES;
}

export function position(line: PhysicalLine, index: number): Position {
  return { line: line.number, column: index + 1, offset: line.offset + index };
}

/** A range inside one physical line, from character `from` to `to` (exclusive). */
export function lineSpan(file: string, line: PhysicalLine, from: number, to: number): SourceRange {
  return { file, start: position(line, from), end: position(line, Math.max(to, from + 1)) };
}

/** Go's `bytes.TrimRight(line, "\r\n")`. */
export function trimNewline(s: string): string {
  let end = s.length;
  while (end > 0 && (s[end - 1] === '\n' || s[end - 1] === '\r')) end--;
  return end === s.length ? s : s.slice(0, end);
}
