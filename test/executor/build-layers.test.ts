import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { cliPath, runCli } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree } from '../helpers/files.js';
import { saveAndUnpack } from '../helpers/unpack.js';
import { settleSplitLayers } from '../../store/index.js';

// A COPY layer that a later step of the same build reads as a directory is extracted into
// the build's private tmpfs (executor/build-layers.ts), and beside the build into the
// store's layers/, where it then stands for its tar (store/tar-split.ts; issue 22).

let root: string;
let work: string;

before(async () => {
  ({ work, root } = await busyboxWork());
});

const COPY_THEN_RUN = 'FROM busybox\nCOPY src /src\nRUN find /src -type f | wc -l > /count && cat /src/a/one /src/b/big | md5sum > /sum\n';
const big = Buffer.alloc(3 << 20, 5);

async function context(name: string, dockerfile = COPY_THEN_RUN): Promise<string> {
  const ctx = join(work, `ctx-${name}`);
  // src/a/two names the test, so no test's COPY is a cache hit of another's
  await writeTree(ctx, { Dockerfile: dockerfile, 'src/a/one': 'one\n', 'src/a/two': `${name}\n`, 'src/b/big': big });
  return ctx;
}

async function build(name: string, ctx: string, env: NodeJS.ProcessEnv = {}) {
  return runCli(['build', '--progress', 'plain', '-t', name, ctx], { root, env });
}

/** The COPY layer's diff_id (the image's second layer) and what the RUN wrote. */
async function result(name: string) {
  const inspect = await runCli(['inspect', name], { root });
  const copyLayer = (JSON.parse(inspect.stdout) as { RootFS: { Layers: string[] } }[])[0].RootFS.Layers[1];
  const { bundle } = await saveAndUnpack(root, name, join(work, `unpack-${name}`));
  const rootfs = join(bundle, 'rootfs');
  return { copyLayer, count: (await readFile(join(rootfs, 'count'), 'utf8')).trim(), sum: await readFile(join(rootfs, 'sum'), 'utf8') };
}

const expectedSum = async () => {
  const { createHash } = await import('node:crypto');
  return `${createHash('md5').update('one\n').update(big).digest('hex')}  -\n`;
};

async function storeLayerDirs(): Promise<string[]> {
  return readdir(join(root, 'layers'));
}

/** tmpfs and overlay mounts at or under the store (a build's must all be gone when it ends). */
async function mountsUnderStore(): Promise<string[]> {
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  return mounts.split('\n').filter((l) => l.split(' ')[1]?.startsWith(root + '/'));
}

test('a RUN after a COPY sees the copied files; the COPY layer dir, in memory for the build, is in the store after it, instead of its tar', async () => {
  const r = await build('memory', await context('memory'));
  assert.equal(r.code, 0, r.stderr);
  const { copyLayer, count, sum } = await result('memory');
  assert.equal(count, '3');
  assert.equal(sum, await expectedSum());
  const hex = copyLayer.replace('sha256:', '');
  assert.ok((await storeLayerDirs()).includes(hex), 'the COPY layer was extracted into the store beside the build');
  assert.ok(existsSync(join(root, 'oci', 'blobs', 'sha256', hex)), 'its tar stays until the dir is durable');
  await settleSplitLayers(root);
  assert.ok(!existsSync(join(root, 'oci', 'blobs', 'sha256', hex)), 'its tar blob gave way to its split');
  assert.ok(existsSync(join(root, 'tar-split', hex)));
  assert.deepEqual(await mountsUnderStore(), []);
  assert.deepEqual(await readdir(join(root, 'tmp')), []);
});

test('the first rebuild after an edit to a late COPY finds its parent layers extracted in the store: none is extracted again', async () => {
  // The last RUN gives the background extraction of the RUN cp layer time to finish: at the
  // end of a build what is not on disk yet is abandoned (executor/build-layers.ts close()).
  const ctx = await context('edit', 'FROM busybox\nCOPY src /src\nRUN cp -r /src /built && echo built > /built/mark\nCOPY app /app\nRUN sleep 2 && touch /slept\n');
  await writeTree(ctx, { 'app/main.go': 'package main // 1\n' });
  assert.equal((await build('edit', ctx)).code, 0);
  const inspect = async () => (JSON.parse((await runCli(['inspect', 'edit'], { root })).stdout) as { RootFS: { Layers: string[] } }[])[0].RootFS.Layers;
  const before = await inspect();
  const parents = before.slice(0, -2).map((l) => l.replace('sha256:', ''));
  const inodes = await Promise.all(parents.map(async (hex) => (await stat(join(root, 'layers', hex))).ino));
  await writeTree(ctx, { 'app/main.go': 'package main // 2\n' });
  const r = await build('edit', ctx);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /RUN cp -r[^\n]*\n#\d+ CACHED/);
  const after = await inspect();
  assert.deepEqual(after.slice(0, -2), before.slice(0, -2));
  assert.notEqual(after.at(-2), before.at(-2));
  // the same dirs as after the first build: found, not extracted again
  assert.deepEqual(await Promise.all(parents.map(async (hex) => (await stat(join(root, 'layers', hex))).ino)), inodes);
  const ran = await runCli(['run', '--rm', 'edit', 'cat', '/built/mark', '/app/main.go'], { root });
  assert.equal(ran.stdout, 'built\npackage main // 2\n', ran.stderr);
});

test('a later build whose RUN changed gets the cached COPY layer from its blob', async () => {
  const ctx = await context('rerun');
  assert.equal((await build('rerun', ctx)).code, 0);
  await writeTree(ctx, { Dockerfile: COPY_THEN_RUN.replace('> /count', '> /count && true') });
  const r = await build('rerun', ctx);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /COPY src \/src\n#\d+ CACHED/);
  const { count, sum } = await result('rerun');
  assert.equal(count, '3');
  assert.equal(sum, await expectedSum());
});

test('with TSBUILD_LAYER_DIRS=disk the COPY layer dir is extracted into the store', async () => {
  const r = await build('ondisk', await context('ondisk', COPY_THEN_RUN), { TSBUILD_LAYER_DIRS: 'disk' });
  assert.equal(r.code, 0, r.stderr);
  const { copyLayer, sum } = await result('ondisk');
  assert.equal(sum, await expectedSum());
  assert.ok((await storeLayerDirs()).includes(copyLayer.replace('sha256:', '')));
});

test('a COPY layer larger than the in-memory dir is extracted on disk and the build succeeds', async () => {
  const ctx = await context('full');
  const r = await build('full', ctx, { TSBUILD_LAYER_DIRS_BYTES: String(1 << 20) });
  assert.equal(r.code, 0, r.stderr);
  const { copyLayer, count, sum } = await result('full');
  assert.equal(count, '3');
  assert.equal(sum, await expectedSum());
  assert.ok((await storeLayerDirs()).includes(copyLayer.replace('sha256:', '')), 'the disk fallback adopted it');
  assert.deepEqual(await mountsUnderStore(), []);
});

test('a RUN that fails after a COPY leaves no mount and no temp dir behind', async () => {
  const r = await build('fails', await context('fails', 'FROM busybox\nCOPY src /src\nRUN test -f /src/a/one && exit 3\n'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /RUN exited with code 3/);
  assert.deepEqual(await mountsUnderStore(), []);
  assert.deepEqual(await readdir(join(root, 'tmp')), []);
});

test('a COPY that fails before its layer is written leaves no extraction behind', async () => {
  const r = await build('missing', await context('missing', 'FROM busybox\nCOPY nothere /x\nRUN true\n'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nothere/);
  assert.deepEqual(await mountsUnderStore(), []);
  assert.deepEqual(await readdir(join(root, 'tmp')), []);
});

test('a COPY layer with whiteout names (.wh.* in the context) reads in the next RUN as the store extracts it: as whiteouts', async () => {
  const ctx = await context('whiteout', 'FROM busybox\nCOPY src /src\nRUN test ! -e /src/a/gone && test ! -e /src/a/.wh.gone && cat /src/a/two > /ls\n');
  await writeTree(ctx, { 'src/a/.wh.gone': '' });
  const r = await build('whiteout', ctx);
  assert.equal(r.code, 0, r.stderr);
  const ls = await runCli(['run', '--rm', 'whiteout', 'cat', '/ls'], { root });
  assert.equal(ls.stdout, 'whiteout\n', ls.stderr);
  assert.deepEqual(await mountsUnderStore(), []);
});

test('a build killed while its RUN reads the in-memory COPY layer leaves a mount that the next command removes', async () => {
  const ctx = await context('killed', 'FROM busybox\nCOPY src /src\nRUN sleep 30\n');
  const child = spawn(process.execPath, [cliPath, '--root', root, 'build', '-q', '-t', 'killed', ctx], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let seen = false;
  for (let i = 0; i < 300 && !seen; i++) {
    await new Promise((r) => setTimeout(r, 100));
    seen = (await mountsUnderStore()).some((l) => l.startsWith('tsbuild-layers '));
  }
  child.kill('SIGKILL');
  await exited;
  assert.ok(seen, 'the build mounted its in-memory layer dirs');
  const next = await runCli(['images'], { root });
  assert.equal(next.code, 0, next.stderr);
  assert.deepEqual((await mountsUnderStore()).filter((l) => l.startsWith('tsbuild-layers ')), []);
  assert.ok(!(await readdir(join(root, 'tmp'))).some((n) => n.startsWith(`${child.pid}-`)), 'the dead build\'s temp dirs are gone');
});

test('a RUN read by the next RUN keeps its layer dir in memory: deletions and files seen; the store gets it too', async () => {
  const ctx = join(work, 'ctx-run-run');
  await writeTree(ctx, {
    Dockerfile: 'FROM busybox\nRUN mkdir -p /d/sub && echo kept > /d/kept && rm /etc/group\nRUN test ! -e /etc/group && cat /d/kept > /seen\n',
  });
  const r = await build('run-run', ctx);
  assert.equal(r.code, 0, r.stderr);
  const inspect = await runCli(['inspect', 'run-run'], { root });
  const runLayer = (JSON.parse(inspect.stdout) as { RootFS: { Layers: string[] } }[])[0].RootFS.Layers[1];
  assert.ok((await storeLayerDirs()).includes(runLayer.replace('sha256:', '')));
  assert.deepEqual((await runCli(['fsck'], { root })).code, 0, 'its tar made again from the dir has its diff_id');
  const { bundle } = await saveAndUnpack(root, 'run-run', join(work, 'unpack-run-run'));
  assert.equal(await readFile(join(bundle, 'rootfs', 'seen'), 'utf8'), 'kept\n');
  assert.deepEqual(await mountsUnderStore(), []);
});

test('a big layer still being extracted onto the store when the build ends is finished by a detached process: the first edit rebuild unpacks nothing', async () => {
  // The RUN's layer (8 MiB and 4,000 files) is extracted onto the store's disk beside the
  // build; the build's last step is a short COPY, so it ends first and hands the rest on
  // (store/extract-detached.ts) instead of abandoning it.
  const ctx = join(work, 'ctx-handoff');
  await writeTree(ctx, {
    Dockerfile:
      'FROM busybox\nRUN mkdir /deps && cd /deps && dd if=/dev/zero of=big bs=1M count=8 2>/dev/null && i=0 && while [ $i -lt 4000 ]; do echo $i > f$i; i=$((i+1)); done\nCOPY app /app\n',
    'app/main.go': 'package main // 1\n',
  });
  const r = await build('handoff', ctx);
  assert.equal(r.code, 0, r.stderr);
  const inspect = async () => (JSON.parse((await runCli(['inspect', 'handoff'], { root })).stdout) as { RootFS: { Layers: string[] } }[])[0].RootFS.Layers;
  const runLayer = (await inspect())[1].replace('sha256:', '');
  const dir = join(root, 'layers', runLayer);
  for (let i = 0; i < 2400 && !existsSync(dir); i++) await new Promise((res) => setTimeout(res, 50));
  assert.ok(existsSync(dir), 'the RUN layer dir is published after the build has exited, with no tsbuild running');
  for (let i = 0; i < 2400 && existsSync(join(root, 'locks', `layer-${runLayer}`)); i++) await new Promise((res) => setTimeout(res, 50));
  const ino = (await stat(dir)).ino;
  await writeTree(ctx, { 'app/main.go': 'package main // 2\n' });
  const again = await build('handoff', ctx);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /RUN mkdir \/deps[^\n]*\n#\d+ CACHED/);
  assert.equal((await stat(dir)).ino, ino, 'the edit rebuild found the dir: not extracted again');
  const ran = await runCli(['run', '--rm', 'handoff', 'sh', '-c', 'ls /deps | wc -l; cat /deps/f3999 /app/main.go'], { root });
  assert.equal(ran.stdout.replace(/^\s+/, ''), '4001\n3999\npackage main // 2\n', ran.stderr);
});

test('the first edit rebuild right after a build borrows the layer dirs that build lent: it waits for no extraction', { timeout: 300_000 }, async () => {
  // The RUN's layer (20,000 files) is still being extracted onto the store's disk when the
  // build ends; its in-memory dir is lent to the detached extractor (store/lent-layers.ts).
  // With that extractor stopped, an edit rebuild's COPY and RUN must take the lent dir as
  // their lower: waiting for the extraction would never end.
  const ctx = join(work, 'ctx-lent');
  await writeTree(ctx, {
    Dockerfile:
      'FROM busybox\nRUN mkdir /deps && cd /deps && i=0 && while [ $i -lt 20000 ]; do echo $i > f$i; i=$((i+1)); done\nCOPY app /app\nRUN cat /app/main.go /deps/f19999 > /seen\n',
    'app/main.go': 'package main // 1\n',
  });
  const env = { TSBUILD_LENT_GRACE_MS: '0' };
  const loansNow = async () => (existsSync(join(root, 'lent')) ? (await readdir(join(root, 'lent'))).filter((n) => !n.includes('.')) : []);
  const earlier = new Set(await loansNow()); // an earlier test's extractor may not have taken its loan back yet
  const r = await build('lent', ctx, env);
  assert.equal(r.code, 0, r.stderr);
  // Stopped at once: its extraction of 20,000 files onto the disk takes seconds.
  const loans = (await loansNow()).filter((n) => !earlier.has(n));
  assert.ok(loans.length > 0, 'layers were lent: their extraction outlived the build');
  const pid = Number((await readFile(join(root, 'lent', loans[0]), 'utf8')).split(' ')[0]);
  process.kill(pid, 'SIGSTOP');
  const inspect = async () => (JSON.parse((await runCli(['inspect', 'lent'], { root })).stdout) as { RootFS: { Layers: string[] } }[])[0].RootFS.Layers;
  const runLayer = (await inspect())[1].replace('sha256:', '');
  const loan = join(root, 'lent', runLayer);
  assert.ok(loans.includes(runLayer), 'the big RUN layer is among them');
  try {
    await writeTree(ctx, { 'app/main.go': 'package main // 2\n' });
    const again = await build('lent', ctx, env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /RUN mkdir \/deps[^\n]*\n#\d+ CACHED/);
    assert.ok(!existsSync(join(root, 'layers', runLayer)), 'the rebuild extracted nothing of the RUN layer');
    assert.deepEqual(await mountsUnderStore(), [], 'nothing lent is mounted inside the store');
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  for (let i = 0; i < 2400 && (existsSync(loan) || isAlive(pid)); i++) await new Promise((res) => setTimeout(res, 50));
  assert.ok(!existsSync(loan) && !isAlive(pid), 'the extractor took its loan back and ended');
  assert.ok(existsSync(join(root, 'layers', runLayer)), 'having put the layer on disk');
  assert.ok(!(await readFile('/proc/self/mountinfo', 'utf8')).includes(`/run/tsbuild/lent/${pid}-`), 'and unmounted what it was lent');
  const ran = await runCli(['run', '--rm', 'lent', 'cat', '/seen'], { root });
  assert.equal(ran.stdout, 'package main // 2\n19999\n', ran.stderr);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// A RUN's upper dir placed in the build's own tmpfs (BuildLayerDirs.upperSlot, used by
// exec-step.ts when that tmpfs has the room the step is expected to need) becomes the layer's
// dir by a rename: the same inode, no copy. A slot larger than the tmpfs's room is refused (the
// step then mounts a tmpfs of its own).
test('an upper dir in a slot of the build tmpfs is kept as the layer dir by a rename; a slot past its room is refused', async () => {
  const { BuildLayerDirs } = await import('../../executor/build-layers.js');
  const { openStore } = await import('../../store/index.js');
  const { mkdir, writeFile } = await import('node:fs/promises');
  const store = await openStore(join(work, 'slot-store'));
  const layers = new BuildLayerDirs(store, { layerDirs: 'auto', layerDirsBytes: 64 << 20 });
  try {
    assert.equal(await layers.upperSlot(1 << 30), undefined, '1 GiB does not fit a 64 MiB tmpfs');
    const slot = await layers.upperSlot(1 << 20);
    assert.ok(slot, 'a slot of 1 MiB');
    const upper = join(slot.dir, 'upper');
    await mkdir(join(upper, 'etc'), { recursive: true });
    await writeFile(join(upper, 'etc', 'made'), 'by the RUN\n');
    const before = await stat(join(upper, 'etc', 'made'));
    const diffId = `sha256:${'ab'.repeat(32)}` as never;
    await layers.keep(diffId, { root: upper, xattrs: new Map(), slot: upper }, join(work, 'slot-disk-copy'));
    const dir = await layers.layerDir(diffId, { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: diffId, size: 0 });
    assert.equal((await stat(join(dir, 'etc', 'made'))).ino, before.ino, 'moved, not copied');
    assert.equal(await readFile(join(dir, 'etc', 'made'), 'utf8'), 'by the RUN\n');
    assert.ok(!existsSync(upper));
    await slot.remove();
    assert.ok(!existsSync(slot.dir));
  } finally {
    await layers.close();
  }
  const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n');
  assert.deepEqual(mounts.filter((l) => l.split(' ')[1]?.startsWith(join(work, 'slot-store') + '/')), [], 'close unmounted the tmpfs');
});
