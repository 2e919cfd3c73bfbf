import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { runCli, type CliResult } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree, type Tree } from '../helpers/files.js';
import { readLayoutImage, saveAndUnpack } from '../helpers/unpack.js';

// Dockerfile semantics where tsbuild differed from BuildKit (issue 23), each built for real
// and checked in the image: files read back through umoci (a tool we did not write) or `run`.
let work: string;
let root: string;

before(async () => {
  ({ work, root } = await busyboxWork('tsbuild-semantics-'));
});

async function build(name: string, files: Tree, args: string[] = []): Promise<CliResult> {
  const ctx = join(work, `ctx-${name}`);
  await writeTree(ctx, files);
  return runCli(['build', '--progress', 'plain', '-t', name, ...args, ctx], { root });
}

async function run(image: string, script: string): Promise<CliResult> {
  return runCli(['run', '--rm', image, 'sh', '-c', script], { root });
}

/** The image unpacked by umoci: its rootfs dir and its config. */
async function unpacked(image: string) {
  const { bundle, layout } = await saveAndUnpack(root, image, join(work, `unpack-${image}`));
  return { rootfs: join(bundle, 'rootfs'), config: (await readLayoutImage(layout)).config };
}

// Layers may repeat in an image (BuildKit builds this); overlayfs refuses a lower dir named
// twice, so the repeat below is left out (executor/overlay-lowers.ts).
test('an image holding the same layer twice runs RUN steps in the build and in `run`', async () => {
  const b = await build('repeat-layer', {
    Dockerfile: 'FROM busybox\nCOPY a /a\nCOPY b /b\nCOPY a /a\nRUN cat /a /b > /ab\n',
    a: 'aaa\n',
    b: 'bbb\n',
  });
  assert.equal(b.code, 0, b.stderr);
  const { config } = await unpacked('repeat-layer');
  const ids = config.rootfs.diff_ids;
  assert.equal(ids[1], ids[3], 'the two COPY a layers are one layer');
  const r = await run('repeat-layer', 'cat /ab');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'aaa\nbbb\n');
});
