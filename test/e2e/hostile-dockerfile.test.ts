import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeTree } from '../helpers/files.js';
import { tempDir } from '../helpers/temp.js';
import { runCliWatched } from '../helpers/watched-cli.js';

// Issue 16, promise 6: the Dockerfile of 39 chained doubling ENV lines (147 s and 4.3 GB
// before V8 gave up) stops at the first word past 1 MiB, with the size error at its line.

test('39 chained ENV a=$a$a stop at the line that passes 1 MiB, with the size error, in bounded memory', async (t) => {
  const work = await tempDir();
  const lines = ['FROM scratch', 'ENV a=0123456789abcdef', ...Array.from({ length: 39 }, () => 'ENV a=$a$a')];
  await writeTree(join(work, 'ctx'), { Dockerfile: lines.join('\n') + '\n' });
  const r = await runCliWatched(['build', '-t', 'doubling', join(work, 'ctx')], { root: join(work, 'root'), killAfterMs: 120_000 });
  assert.equal(r.wasKilled, false, 'the build ended by itself');
  assert.equal(r.code, 1, r.stderr);
  // 16 bytes doubled 16 times is exactly 1 MiB (line 18); the 17th doubling, line 19, is refused.
  assert.match(r.stderr, /Dockerfile:19:1: error\[word-too-large\]: failed to process "\$a\$a": it expands to more than 1 MiB/);
  assert.doesNotMatch(r.stderr, /this is a bug|at .*\.js:\d+/);
  t.diagnostic(`peak RSS of the build: ${(r.peakRssBytes / (1 << 20)).toFixed(0)} MiB`);
  assert.ok(r.peakRssBytes > 0 && r.peakRssBytes < 512 << 20, `peak RSS ${r.peakRssBytes >> 20} MiB`);
});
