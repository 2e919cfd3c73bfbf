/**
 * executor/snapshotter.ts: the overlay probe (a real mount in the store's temp area) runs
 * only when a step needs a snapshotter, and an overlay that mounted is remembered for the
 * boot (memo `overlay-probe`), so a fully cached build mounts nothing and a RUN build after
 * the first does not probe again.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree } from '../helpers/files.js';

let root: string;
let work: string;

before(async () => {
  ({ work, root } = await busyboxWork());
});

const probeMemos = () => {
  const dir = join(root, 'cache', 'memo', 'overlay-probe');
  return existsSync(dir) ? readdirSync(dir).map((n) => readFileSync(join(dir, n), 'utf8')) : [];
};

test('a build that mounts nothing does not probe overlay; a RUN build probes once and remembers it', async () => {
  const ctx = join(work, 'ctx-probe');
  await writeTree(ctx, { Dockerfile: 'FROM busybox\nLABEL probe=none\n' });
  const r = await runCli(['build', '-q', '-t', 'probe-label', ctx], { root, env: { TSBUILD_SNAPSHOTTER: 'auto' } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(probeMemos(), [], 'a LABEL-only build made no overlay mount');

  await writeTree(ctx, { Dockerfile: 'FROM busybox\nRUN echo probed > /p\n' });
  const run = await runCli(['build', '-q', '-t', 'probe-run', ctx], { root, env: { TSBUILD_SNAPSHOTTER: 'auto' } });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(probeMemos(), ['"overlay"'], 'the overlay that mounted is remembered');
  const again = await runCli(['run', '--rm', 'probe-run', 'cat', '/p'], { root });
  assert.equal(again.stdout, 'probed\n', again.stderr);
});
