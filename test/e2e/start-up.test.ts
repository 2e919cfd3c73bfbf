import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { tempDir } from '../helpers/temp.js';

// The bin as a user runs it starts Node without V8 flags (a flag makes V8 refuse the code
// cache of Node's own modules) and compiles the bundle with the code cache `npm install`
// wrote; TSBUILD_DEBUG=start says how it went.
test('the tsbuild bin starts Node without flags and uses the code cache', async () => {
  const root = await tempDir('tsbuild-start-');
  const r = await runCli(['--root', root, 'images'], { env: { TSBUILD_DEBUG: 'start', NODE_OPTIONS: '' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^tsbuild: code cache used; node flags: none$/m);
  // With a flag, the same line tells: the cache made without flags is refused.
  const flagged = await runCli(['--root', root, 'images'], { env: { TSBUILD_DEBUG: 'start', NODE_OPTIONS: '--max-semi-space-size=2' } });
  assert.equal(flagged.code, 0, flagged.stderr);
  assert.match(flagged.stderr, /^tsbuild: code cache rejected; node flags: none$/m);
});
