/**
 * The folder layout is the architecture (STYLE.md §1): each top-level folder is entered only
 * through its index.ts, and the arrows between folders go one way. A new import that goes
 * around a door, or a new arrow, fails here; the same rule as ../shared/tools/boundaries.py.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { projectRoot } from '../../common/index.js';

/** What each folder may import (through the other folder's index.ts). */
const ALLOWED: Record<string, string[]> = {
  common: [],
  parser: ['common'],
  store: ['common'],
  context: ['common', 'store'],
  planner: ['common', 'parser', 'context', 'store', 'remote'],
  executor: ['common', 'planner', 'context', 'store', 'remote'],
  registry: ['common', 'store'],
  remote: ['common', 'store'],
  engine: ['common', 'parser', 'planner', 'context', 'executor', 'registry', 'remote', 'store'],
  cli: ['common', 'engine', 'parser', 'store'],
};

/** Imports allowed around a door (none now: the launcher's bundle keeps only what it uses of common/). */
const EXCEPTIONS: Record<string, string> = {};

const IMPORT = /(?:from\s+|import\s*\(\s*|^import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Every cross-folder import as `from -> to` (paths relative to the project, .ts). */
function crossImports(): { edge: string; from: string; to: string; isDoor: boolean }[] {
  const out = [];
  for (const folder of Object.keys(ALLOWED)) {
    for (const file of sources(join(projectRoot, folder))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(IMPORT)) {
        const target = relative(projectRoot, normalize(join(dirname(file), m[1]))).replace(/\.js$/, '.ts');
        const to = target.split(sep)[0];
        if (to === folder || !(to in ALLOWED)) continue;
        const from = relative(projectRoot, file);
        out.push({ edge: `${from} -> ${target}`, from: folder, to, isDoor: target === `${to}/index.ts` });
      }
    }
  }
  return out;
}

test('every import of another folder goes through its index.ts', () => {
  const around = crossImports().filter((i) => !i.isDoor && !(i.edge in EXCEPTIONS)).map((i) => i.edge);
  assert.deepEqual(around, []);
});

test('the arrows between folders go one way', () => {
  const wrong = crossImports().filter((i) => !ALLOWED[i.from].includes(i.to)).map((i) => i.edge);
  assert.deepEqual(wrong, []);
});

test('each exception is still needed (an unused one is removed)', () => {
  const edges = new Set(crossImports().map((i) => i.edge));
  assert.deepEqual(Object.keys(EXCEPTIONS).filter((e) => !edges.has(e)), []);
});

test('each folder index.ts opens with what the folder does', () => {
  for (const folder of Object.keys(ALLOWED)) {
    const text = readFileSync(join(projectRoot, folder, 'index.ts'), 'utf8');
    assert.match(text, /^\/\*\*\n \* [a-z]+\/: /, `${folder}/index.ts`);
  }
});
