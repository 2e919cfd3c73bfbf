import { readFile } from 'node:fs/promises';
import { UserError, digestOf } from '../common/index.js';
import type { Instruction, RawDockerfile } from '../parser/index.js';
import type { Store } from '../store/index.js';

/** Bump when the parser's output changes shape, so old memos are not reused. */
const PARSE_MEMO_VERSION = 3;

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
 * when read. A quarter of the memo (10,000 LABELs: 8.2 MB), read by every cached rebuild.
 */
function packed(parsed: ParsedDockerfile): ParsedDockerfile {
  const instructions = parsed.instructions.map((ins, i) => {
    const r = parsed.raw.instructions[i];
    if (r?.range !== ins.range || r.keywordRange !== ins.keywordRange) return ins;
    const { range: _r, keywordRange: _k, ...rest } = ins;
    return rest as Instruction;
  });
  return { ...parsed, instructions };
}

function unpacked(memo: ParsedDockerfile): ParsedDockerfile {
  memo.instructions.forEach((ins, i) => {
    if (ins.range !== undefined) return;
    const r = memo.raw.instructions[i];
    if (r) Object.assign(ins, { range: r.range, keywordRange: r.keywordRange });
  });
  return memo;
}
