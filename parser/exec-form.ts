import { loadBundle } from '../common/index.js';

export type ExecForm =
  | { kind: 'array'; items: string[] }
  | { kind: 'not-strings' }
  | { kind: 'not-json' };

/**
 * The grammar's parse, from parser/grammar.ts and Chevrotain bundled on their own
 * (dist/tsbuild-grammar.cjs): the grammar is needed only for exec forms that are not a plain
 * array of strings, and loading Chevrotain's modules at every start cost each command ~2.5 ms
 * (bench/RESULTS.md).
 */
let withGrammar: ((text: string) => ExecForm) | undefined;

/** BuildKit's parseJSON: a JSON array of strings, an array holding something else (an error), or not JSON. */
export function parseExecForm(text: string): ExecForm {
  // Text whose first non-blank character opens no array is not JSON to BuildKit (ADD a b).
  if (!/^[ \t\n\r]*\[/.test(text)) return { kind: 'not-json' };
  return plainStringArray(text) ?? grammar()(text);
}

function grammar(): (text: string) => ExecForm {
  withGrammar ??= loadBundle<typeof import('./grammar.js')>('tsbuild-grammar.cjs').parseExecFormWithGrammar;
  return withGrammar;
}

/**
 * The common case without the grammar: a flat array of strings with no backslash, which
 * JSON.parse reads exactly as Go's decoder and the grammar do. Anything else (escapes,
 * nesting, other values, not JSON) is left to the grammar; test/parser/exec-form.test.ts
 * checks both agree.
 */
function plainStringArray(text: string): ExecForm | undefined {
  if (text.includes('\\')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return undefined;
  return { kind: 'array', items: value as string[] };
}
