import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { writeTree } from '../helpers/files.js';
import { tempDir } from '../helpers/temp.js';
import { saveAndUnpack } from '../helpers/unpack.js';

/** Build `dockerfile` with a small context; returns the unpacked rootfs (or the failed result). */
async function build(dockerfile: string, args: string[] = [], files: Record<string, string> = {}) {
  const work = await tempDir();
  const root = join(work, 'root');
  const ctx = join(work, 'ctx');
  await writeTree(ctx, { Dockerfile: dockerfile, 'one.txt': 'one\n', 'two.txt': 'two\n', ...files });
  const r = await runCli(['build', '--progress', 'plain', ...args, '-t', 'stages', ctx], { root });
  return { r, root, work, ctx };
}

async function rootfsOf(root: string, work: string): Promise<string> {
  return join((await saveAndUnpack(root, 'stages', work)).bundle, 'rootfs');
}

test('COPY --from a stage by name and by index', async () => {
  const { r, root, work } = await build(`FROM scratch AS first
COPY one.txt /one.txt
FROM scratch
COPY two.txt /two.txt
FROM scratch
COPY --from=first /one.txt /a
COPY --from=1 /two.txt /b
`);
  assert.equal(r.code, 0, r.stderr);
  const rootfs = await rootfsOf(root, work);
  assert.equal(await readFile(join(rootfs, 'a'), 'utf8'), 'one\n');
  assert.equal(await readFile(join(rootfs, 'b'), 'utf8'), 'two\n');
});

test('--target builds only the stages the target needs (an unused stage that would fail is skipped)', async () => {
  const { r, root, work } = await build(
    `FROM scratch AS broken
COPY does-not-exist /x
FROM scratch AS good
COPY one.txt /one.txt
FROM scratch
COPY --from=broken /x /x
`,
    ['--target', 'good'],
  );
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /does-not-exist/);
  const rootfs = await rootfsOf(root, work);
  assert.equal(await readFile(join(rootfs, 'one.txt'), 'utf8'), 'one\n');
});

test('a stage nobody uses is not built', async () => {
  const { r } = await build(`FROM scratch AS unused
COPY does-not-exist /x
FROM scratch
COPY one.txt /one.txt
`);
  assert.equal(r.code, 0, r.stderr);
});

test('FROM an earlier stage continues from its result', async () => {
  const { r, root, work } = await build(`FROM scratch AS base
COPY one.txt /one.txt
ENV FROM_BASE=yes
FROM base
COPY two.txt /two.txt
`);
  assert.equal(r.code, 0, r.stderr);
  const rootfs = await rootfsOf(root, work);
  assert.equal(await readFile(join(rootfs, 'one.txt'), 'utf8'), 'one\n');
  assert.equal(await readFile(join(rootfs, 'two.txt'), 'utf8'), 'two\n');
});

test('global ARGs are visible to FROM only, unless re-declared in the stage', async () => {
  const { r, root, work } = await build(`ARG NAME=one
ARG OTHER=two
FROM scratch AS src
ARG NAME
COPY \${NAME}.txt /\${NAME}.txt
FROM scratch
ARG OTHER
COPY --from=src /one.txt /copied-\${NAME}-\${OTHER}
`);
  assert.equal(r.code, 0, r.stderr);
  const rootfs = await rootfsOf(root, work);
  // NAME is not re-declared in the last stage: it expands to empty; OTHER is.
  assert.equal(await readFile(join(rootfs, 'copied--two'), 'utf8'), 'one\n');
});

test('--build-arg overrides a default; unused build args are reported', async () => {
  const { r, root, work } = await build(
    `ARG WHICH=one
FROM scratch
ARG WHICH
COPY \${WHICH}.txt /picked
`,
    ['--build-arg', 'WHICH=two', '--build-arg', 'NOBODY=x'],
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /build args were not consumed: \[NOBODY\]/);
  const rootfs = await rootfsOf(root, work);
  assert.equal(await readFile(join(rootfs, 'picked'), 'utf8'), 'two\n');
});

test('an unknown --target is an error naming it', async () => {
  const { r } = await build('FROM scratch AS a\nCOPY one.txt /\n', ['--target', 'nope']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /target stage "nope" could not be found/);
  assert.doesNotMatch(r.stderr, /at .*\.js/);
});

test("ONBUILD triggers of a base image run at the child's FROM", async () => {
  const work = await tempDir();
  const root = join(work, 'root');
  const parent = join(work, 'parent');
  await writeTree(parent, { Dockerfile: 'FROM scratch\nCOPY one.txt /one.txt\nONBUILD COPY two.txt /from-trigger.txt\n', 'one.txt': 'one\n' });
  const p = await runCli(['build', '-q', '-t', 'onbuild-parent', parent], { root });
  assert.equal(p.code, 0, p.stderr);
  const child = join(work, 'child');
  await writeTree(child, { Dockerfile: 'FROM onbuild-parent\nCOPY one.txt /child.txt\n', 'one.txt': 'child\n', 'two.txt': 'two\n' });
  const c = await runCli(['build', '-q', '-t', 'stages', child], { root });
  assert.equal(c.code, 0, c.stderr);
  const rootfs = await rootfsOf(root, work);
  assert.equal(await readFile(join(rootfs, 'one.txt'), 'utf8'), 'one\n');
  assert.equal(await readFile(join(rootfs, 'from-trigger.txt'), 'utf8'), 'two\n');
  assert.equal(await readFile(join(rootfs, 'child.txt'), 'utf8'), 'child\n');
  const inspect = JSON.parse((await runCli(['inspect', 'stages'], { root })).stdout) as { Config: { OnBuild?: string[] | null } }[];
  assert.ok(!inspect[0].Config.OnBuild || inspect[0].Config.OnBuild.length === 0, 'triggers are not inherited');
});

test('COPY --from an image in the store', async () => {
  const work = await tempDir();
  const root = join(work, 'root');
  const img = join(work, 'img');
  await writeTree(img, { Dockerfile: 'FROM scratch\nCOPY one.txt /etc/one.txt\n', 'one.txt': 'from image\n' });
  assert.equal((await runCli(['build', '-q', '-t', 'source-image:1', img], { root })).code, 0);
  const ctx = join(work, 'ctx');
  await writeTree(ctx, { Dockerfile: 'FROM scratch\nCOPY --from=source-image:1 /etc/one.txt /got.txt\n' });
  const r = await runCli(['build', '-q', '-t', 'stages', ctx], { root });
  assert.equal(r.code, 0, r.stderr);
  const rootfs = await rootfsOf(root, work);
  assert.equal(await readFile(join(rootfs, 'got.txt'), 'utf8'), 'from image\n');
});
