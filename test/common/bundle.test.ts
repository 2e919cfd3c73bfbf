import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { UserError, loadBundle, projectRoot, undici } from '../../common/index.js';

// The bundles beside the main one (scripts/bundle.mjs) are loaded at their first use; a
// missing one is a broken install and is said so, in one line that names the file.

test('a bundle loads from dist/; a missing one is one clear error naming the file and npm install', () => {
  const grammar = loadBundle<{ parseExecFormWithGrammar(text: string): unknown }>('tsbuild-grammar.cjs');
  assert.deepEqual(grammar.parseExecFormWithGrammar('["a\\\\b"]'), { kind: 'array', items: ['a\\b'] });
  assert.throws(
    () => loadBundle('tsbuild-nosuch.cjs'),
    (e: unknown) =>
      e instanceof UserError &&
      e.code === 'install-incomplete' &&
      e.message === `tsbuild's install is incomplete: ${join(projectRoot, 'dist', 'tsbuild-nosuch.cjs')} is missing` &&
      e.hint === `run npm install in ${projectRoot}`,
  );
});

test('undici comes from its own bundle, the same module each time', async () => {
  const u = await undici();
  assert.equal(typeof u.request, 'function');
  assert.equal(typeof u.Agent, 'function');
  assert.equal(await undici(), u);
});
