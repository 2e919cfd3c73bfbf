import { readFile } from 'node:fs/promises';
import { UserError, digestOf, type SourceRange } from '../common/index.js';
import type { Instruction, RawDockerfile, RawInstruction } from '../parser/index.js';
import type { Store } from '../store/index.js';

/** Bump when the parser's output changes shape, so old memos are not reused. */
const PARSE_MEMO_VERSION = 4;

export interface ParsedDockerfile {
  instructions: Instruction[];
  escape: string;
  /** The raw tree the build checks and `--call` read (keywords as written, comments). */
  raw: RawDockerfile;
}

/** The Dockerfile's text; missing, Docker's message naming it as the user gave it (`shown`). */
export async function readDockerfile(path: string, shown: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      'dockerfile-missing',
      `failed to read dockerfile: open ${shown}: ${code === 'ENOENT' ? 'no such file or directory' : code}`,
      { where: shown },
    );
  }
}

/**
 * Parse (and type) the Dockerfile, or reuse the result of the same text from an earlier
 * build: a cached rebuild then never loads the parser.
 */
export async function parseDockerfile(store: Store, text: string, file: string): Promise<ParsedDockerfile> {
  const key = digestOf(JSON.stringify({ v: PARSE_MEMO_VERSION, file, text }));
  const known = await store.memos.read<ParsedDockerfile>('dockerfile', key);
  if (known) return unpacked(known);
  const { parseRaw, typeInstructions } = await import('../parser/index.js');
  const raw = parseRaw(text, file);
  const parsed = { instructions: typeInstructions(raw), escape: raw.directives.escape ?? '\\', raw };
  await store.memos.write('dockerfile', key, packed(parsed));
  return parsed;
}

/**
 * The memo's form: an instruction's ranges are its raw instruction's very objects
 * (parser/instructions/located.ts), so they are written once, in `raw`, and shared again
 * when read; there, a range in the Dockerfile itself is its six numbers (its file is
 * raw.file), in the range's own place. 10,000 LABELs: 8.2 MB of memo, then 5.5 MB, now
 * 3.6 MB, written by the cold build and read by every cached rebuild.
 */
function packed(parsed: ParsedDockerfile): ParsedDockerfile {
  const instructions = parsed.instructions.map((ins, i) => {
    const r = parsed.raw.instructions[i];
    if (r?.range !== ins.range || r.keywordRange !== ins.keywordRange) return ins;
    const { range: _r, keywordRange: _k, ...rest } = ins;
    return rest as Instruction;
  });
  const file = parsed.raw.file;
  return { ...parsed, instructions, raw: { ...parsed.raw, instructions: parsed.raw.instructions.map((r) => packedRaw(r, file)) } };
}

/** Numbers in the memo where the raw instruction has range objects (the same keys, in order). */
type PackedRange = [number, number, number, number, number, number];

function packedRaw(r: RawInstruction, file: string): RawInstruction {
  if (r.range.file !== file || r.keywordRange.file !== file) return r;
  const numbers = ({ start: s, end: e }: SourceRange): PackedRange => [s.line, s.column, s.offset, e.line, e.column, e.offset];
  const packedFields = { range: numbers(r.range), keywordRange: numbers(r.keywordRange), onbuild: r.onbuild && packedRaw(r.onbuild, file) };
  return { ...r, ...(packedFields as unknown as Pick<RawInstruction, 'range' | 'keywordRange' | 'onbuild'>) };
}

function unpacked(memo: ParsedDockerfile): ParsedDockerfile {
  const file = memo.raw.file;
  for (const r of memo.raw.instructions) unpackRaw(r, file);
  memo.instructions.forEach((ins, i) => {
    if (ins.range !== undefined) return;
    const r = memo.raw.instructions[i];
    if (r) Object.assign(ins, { range: r.range, keywordRange: r.keywordRange });
  });
  return memo;
}

/** In place: an assignment keeps the key where it was, so the object is the parser's, key order too. */
function unpackRaw(r: RawInstruction, file: string): void {
  const range = (n: SourceRange | PackedRange): SourceRange =>
    Array.isArray(n) ? { file, start: { line: n[0], column: n[1], offset: n[2] }, end: { line: n[3], column: n[4], offset: n[5] } } : n;
  r.range = range(r.range);
  r.keywordRange = range(r.keywordRange);
  if (r.onbuild) unpackRaw(r.onbuild, file);
}
