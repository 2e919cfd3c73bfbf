import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree } from '../helpers/files.js';

test('8 builds of overlapping Dockerfiles at once on one root, with a prune during them', async () => {
  const { work, root } = await busyboxWork();
  const builds = [];
  for (let i = 0; i < 8; i++) {
    const ctx = join(work, `ctx-${i}`);
    await writeTree(ctx, {
      // Steps 1–2 are shared by all eight builds, step 3 by pairs, step 4 is each one's own.
      Dockerfile: `FROM busybox\nCOPY shared /shared\nRUN echo common > /common\nRUN echo pair-${i % 4} > /pair\nRUN echo own-${i} > /own\n`,
      shared: 'the same in every context\n',
    });
    builds.push(runCli(['build', '-q', '-t', `concurrent-${i}`, ctx], { root }));
  }
  const prune = new Promise((r) => setTimeout(r, 300)).then(() => runCli(['prune'], { root }));
  const results = await Promise.all(builds);
  const pruned = await prune;
  assert.equal(pruned.code, 0, pruned.stderr);
  for (const [i, r] of results.entries()) assert.equal(r.code, 0, `build ${i}: ${r.stderr}`);
  for (let i = 0; i < 8; i++) {
    const out = await runCli(['run', '--rm', `concurrent-${i}`, 'cat', '/shared', '/common', '/pair', '/own'], { root });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, `the same in every context\ncommon\npair-${i % 4}\nown-${i}\n`);
  }
  const fsck = await runCli(['fsck'], { root });
  assert.equal(fsck.code, 0, fsck.stdout + fsck.stderr);
});
