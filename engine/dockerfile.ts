import { readFile } from 'node:fs/promises';
import { UserError, digestOf } from '../common/index.js';
import type { Instruction, RawDockerfile } from '../parser/index.js';
import type { Store } from '../store/index.js';

/** Bump when the parser's output changes shape, so old memos are not reused. */
const PARSE_MEMO_VERSION = 2;

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
  if (known) return known;
  const { parseRaw, typeInstructions } = await import('../parser/index.js');
  const raw = parseRaw(text, file);
  const parsed = { instructions: typeInstructions(raw), escape: raw.directives.escape ?? '\\', raw };
  await store.memos.write('dockerfile', key, parsed);
  return parsed;
}
