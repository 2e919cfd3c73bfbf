import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { projectRoot, UserError, UserErrors, type SourceRange } from '../../common/index.js';
import { expandInstruction, parseRaw, typeInstructions } from '../../parser/index.js';
import { renderError } from '../../cli/render-error.js';

// Golden files: cases/<name>/Dockerfile → ast.json, errors/<name>/Dockerfile → error.txt.
// UPDATE_GOLDEN=1 rewrites them; review the diff like code.
const here = resolve(projectRoot, 'test', 'parser');
const update = process.env.UPDATE_GOLDEN === '1';

function compare(path: string, actual: string): void {
  if (update || !existsSync(path)) {
    writeFileSync(path, actual);
    if (!update) assert.fail(`golden file ${path} was missing and has been written; review it`);
    return;
  }
  assert.equal(actual, readFileSync(path, 'utf8'));
}

/** Ranges as `line:col-line:col`, so goldens stay readable. */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if ('start' in o && 'end' in o && 'file' in o) {
      const r = o as unknown as SourceRange;
      return `${r.start.line}:${r.start.column}-${r.end.line}:${r.end.column}`;
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, compact(v)]));
  }
  return value;
}

for (const name of readdirSync(resolve(here, 'cases')).sort()) {
  test(`golden AST: ${name}`, () => {
    const text = readFileSync(resolve(here, 'cases', name, 'Dockerfile'), 'utf8');
    const typed = typeInstructions(parseRaw(text, 'Dockerfile'));
    compare(resolve(here, 'cases', name, 'ast.json'), JSON.stringify(compact(typed), null, 2) + '\n');
  });
}

for (const name of readdirSync(resolve(here, 'errors')).sort()) {
  test(`golden error: ${name}`, () => {
    const text = readFileSync(resolve(here, 'errors', name, 'Dockerfile'), 'utf8');
    let errors: UserError[] = [];
    try {
      for (const ins of typeInstructions(parseRaw(text, 'Dockerfile'))) expandInstruction(ins, {}, '\\');
    } catch (e) {
      if (e instanceof UserErrors) errors = e.errors;
      else if (e instanceof UserError) errors = [e];
      else throw e;
    }
    assert.ok(errors.length > 0, 'the Dockerfile must be rejected');
    for (const e of errors) assert.equal(typeof e.where, 'object', `${e.code} has a source range`);
    const sources = new Map([['Dockerfile', text]]);
    compare(resolve(here, 'errors', name, 'error.txt'), errors.map((e) => renderError(e, sources)).join('\n\n') + '\n');
  });
}
