#!/usr/bin/env node
// Makes dist/tsbuild-main.cjs.cache, V8's code cache for the main bundle (cli/launch.ts):
// runs one real build (fixtures/scratch-hello, into a throw-away store) through the
// launcher, which writes the cache of everything that build compiled. Only a speed-up:
// when this fails, tsbuild still works (V8 compiles from source) and install goes on.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const store = mkdtempSync(join(tmpdir(), 'tsbuild-code-cache-'));
try {
  const r = spawnSync(join(root, 'dist', 'tsbuild.cjs'), ['--root', store, 'build', '-q', join(root, 'fixtures', 'scratch-hello')], {
    env: { ...process.env, TSBUILD_CODE_CACHE: 'write', TSBUILD_REPLAY: 'off' },
    encoding: 'utf8',
  });
  if (r.status !== 0) console.warn(`code-cache: skipped (the warm-up build failed: ${(r.stderr || String(r.error)).trim()})`);
} finally {
  rmSync(store, { recursive: true, force: true });
}
