#!/usr/bin/env node
// `npm test`: compile, then run every dist/test/**/*.test.js with node:test.
// TSBUILD_TEST_FILTER=substring limits the files (handy while working on one folder).
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
execFileSync('node', ['scripts/bundle.mjs'], { cwd: root, stdio: 'inherit' });
execFileSync('node', ['scripts/build-native.mjs'], { cwd: root, stdio: 'inherit' });
execFileSync('node', ['scripts/code-cache.mjs'], { cwd: root, stdio: 'inherit' });

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const filter = process.env.TSBUILD_TEST_FILTER ?? '';
const files = walk(join(root, 'dist', 'test')).filter((f) => f.includes(filter)).sort();
const r = spawnSync('node', ['--test', '--test-concurrency=2', ...files], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
