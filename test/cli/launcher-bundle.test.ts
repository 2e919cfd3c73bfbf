/**
 * The launcher (cli/launch.ts, bundled as dist/tsbuild.cjs) runs at every start: it imports
 * common/ through its door for `projectRoot`, and the bundler must keep only that. Were
 * common's other modules to run their top-level code there (user-namespace.ts reads
 * /proc/self/uid_map), every command would pay for it twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../common/index.js';

const launcher = readFileSync(join(projectRoot, 'dist', 'tsbuild.cjs'), 'utf8');

test('the launcher bundle requires only Node built-ins', () => {
  const required = [...launcher.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
  assert.ok(required.length > 0);
  assert.deepEqual(required.filter((r) => !r.startsWith('node:')), []);
});

test('the launcher bundle leaves out the parts of common/ it does not use', () => {
  assert.doesNotMatch(launcher, /uid_map/);
  assert.ok(launcher.length < 16 * 1024, `dist/tsbuild.cjs is ${launcher.length} bytes`);
});
