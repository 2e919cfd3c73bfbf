import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { runCli } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree } from '../helpers/files.js';

const exec = promisify(execFile);

// `--build-context NAME=SOURCE` (docker/buildx util/buildflags/context.go; BuildKit
// frontend/dockerui/namedcontext.go for the sources, dockerfile2llb/convert.go for where a
// name is looked up: a stage called NAME is replaced by the context, then FROM NAME,
// COPY --from=NAME and RUN --mount=from=NAME find it before any image of that name).
// Each build writes its final stage with `-o DIR`, and the test reads the files.
let work: string;
let root: string;
let srcDir: string;
let layout: string;
let n = 0;

before(async () => {
  ({ work, root } = await busyboxWork());
  // A second image in the store, to tell apart from busybox.
  const other = join(work, 'other-ctx');
  await writeTree(other, { Dockerfile: 'FROM busybox\nRUN echo other > /marker\n' });
  assert.equal((await runCli(['build', '-q', '-t', 'other:1', other], { root })).code, 0);
  // A named directory with its own .dockerignore.
  srcDir = join(work, 'named-src');
  await writeTree(srcDir, { 'a.txt': 'from the named dir\n', 'ignored.log': 'never seen\n', '.dockerignore': '*.log\n', 'sub/b.txt': 'b\n' });
  // An OCI layout written by skopeo (a tool we did not write) from the store.
  layout = join(work, 'layout');
  await exec('skopeo', ['copy', `oci:${join(root, 'oci')}:docker.io/library/other:1`, `oci:${layout}:v1`]);
  // With two images in it, a tag must name one (with one, buildx takes it whatever the tag).
  await exec('skopeo', ['copy', `oci:${join(root, 'oci')}:docker.io/library/busybox:latest`, `oci:${layout}:v2`]);
});

/** Build `dockerfile` with `args`, its final stage's files written to a fresh directory (returned). */
async function build(dockerfile: string, args: string[]): Promise<{ out: string; stderr: string }> {
  const ctx = join(work, `ctx-${n}`);
  const out = join(work, `out-${n++}`);
  await writeTree(ctx, { Dockerfile: dockerfile, 'main.txt': 'from the main context\n' });
  const r = await runCli(['build', '--progress', 'plain', '-o', out, ...args, ctx], { root, cwd: work });
  assert.equal(r.code, 0, r.stderr);
  return { out, stderr: r.stderr };
}

const read = (dir: string, p: string) => readFile(join(dir, p), 'utf8');

test('a directory context: COPY --from=NAME and RUN --mount=from=NAME read it, less its own .dockerignore', async () => {
  const { out } = await build(
    'FROM busybox\nCOPY --from=src a.txt /a.txt\nCOPY --from=src . /all/\nCOPY main.txt /\n' +
      'RUN --mount=from=src,target=/m test ! -e /m/ignored.log && cat /m/sub/b.txt > /from-mount\n',
    ['--build-context', `src=${srcDir}`],
  );
  assert.equal(await read(out, 'a.txt'), 'from the named dir\n');
  assert.equal(await read(out, 'all/sub/b.txt'), 'b\n');
  await assert.rejects(read(out, 'all/ignored.log'), 'its .dockerignore applies');
  assert.equal(await read(out, 'main.txt'), 'from the main context\n', 'the main context is still the context');
  assert.equal(await read(out, 'from-mount'), 'b\n');
});

test('FROM NAME of a directory context: the directory is the stage\'s filesystem', async () => {
  const { out } = await build('FROM src AS files\nFROM busybox\nCOPY --from=files / /got/\n', ['--build-context', `src=${srcDir}`]);
  assert.equal(await read(out, 'got/a.txt'), 'from the named dir\n');
  assert.equal(await read(out, 'got/sub/b.txt'), 'b\n');
  await assert.rejects(read(out, 'got/ignored.log'));
});

test('docker-image:// overrides an image name: FROM alpine builds on the store\'s busybox, with no pull', async () => {
  const { out } = await build('FROM alpine\nRUN test -x /bin/busybox && echo ok > /ok\n', ['--build-context', 'alpine=docker-image://busybox']);
  assert.equal(await read(out, 'ok'), 'ok\n');
});

test('a context named like a stage replaces the stage: its instructions do not run', async () => {
  const df = 'FROM busybox AS base\nRUN echo from-the-stage > /marker\nFROM base\nRUN cat /marker > /seen\n';
  const plain = await build(df, []);
  assert.equal(await read(plain.out, 'seen'), 'from-the-stage\n');
  const { out, stderr } = await build(df, ['--build-context', 'base=docker-image://other:1']);
  assert.equal(await read(out, 'seen'), 'other\n');
  assert.doesNotMatch(stderr, /echo from-the-stage/, 'the replaced stage\'s RUN is not even shown');
});

test('a stage replaced by a directory context', async () => {
  const { out } = await build('FROM busybox AS assets\nRUN echo no > /a.txt\nFROM busybox\nCOPY --from=assets /a.txt /copied\n', ['--build-context', `assets=${srcDir}`]);
  assert.equal(await read(out, 'copied'), 'from the named dir\n');
});

test('oci-layout:// by tag and by digest: the layout\'s image is the base, and the store gains no name', async () => {
  const byTag = await build('FROM lay\nRUN cat /marker > /seen\n', ['--build-context', `lay=oci-layout://${layout}:v1`]);
  assert.equal(await read(byTag.out, 'seen'), 'other\n');
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  const digest = index.manifests.find((m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'] === 'v1').digest as string;
  const byDigest = await build('FROM busybox\nCOPY --from=lay /marker /m\n', ['--build-context', `lay=oci-layout://${layout}@${digest}`]);
  assert.equal(await read(byDigest.out, 'm'), 'other\n');
  const images = await runCli(['images'], { root });
  assert.doesNotMatch(images.stdout, /lay|oci-layout/);
});

test('a changed file in a directory context reruns the steps that read it; unchanged, they are cached', async () => {
  const dir = join(work, 'changing');
  await writeTree(dir, { 'v.txt': 'one\n' });
  const df = 'FROM busybox\nCOPY --from=c v.txt /v.txt\nRUN cat /v.txt > /w.txt\n';
  const ctx = ['--build-context', `c=${dir}`];
  const first = await build(df, ctx);
  assert.equal(await read(first.out, 'w.txt'), 'one\n');
  const again = await build(df, ctx);
  assert.match(again.stderr, /COPY --from=c v.txt \/v.txt\n#\d+ CACHED/);
  await writeFile(join(dir, 'v.txt'), 'two\n');
  const changed = await build(df, ctx);
  assert.equal(await read(changed.out, 'w.txt'), 'two\n');
});

const bad: { name: string; args: () => string[]; code: number; cause: RegExp }[] = [
  { name: 'a directory that is not there', args: () => ['--build-context', `x=${join(work, 'nowhere')}`], code: 1, cause: /--build-context x: path ".*nowhere" not found/ },
  { name: 'a file, not a directory', args: () => ['--build-context', `x=${join(srcDir, 'a.txt')}`], code: 1, cause: /is not a directory/ },
  { name: 'no NAME=', args: () => ['--build-context', 'justaname'], code: 2, cause: /invalid context value: justaname, expected key=value/ },
  { name: 'a remote URL (not supported yet)', args: () => ['--build-context', 'x=https://127.0.0.1:1/repo.git'], code: 2, cause: /remote build contexts .* are not supported yet/ },
  { name: 'an invalid name', args: () => ['--build-context', `Bad Name=${srcDir}`], code: 2, cause: /invalid context name "Bad Name"/ },
];
for (const c of bad) {
  test(`--build-context error: ${c.name} is one line`, async () => {
    const ctx = join(work, 'bad-ctx');
    await writeTree(ctx, { Dockerfile: 'FROM x\n' });
    const r = await runCli(['build', ...c.args(), ctx], { root, cwd: work });
    assert.equal(r.code, c.code, r.stderr);
    assert.match(r.stderr, c.cause);
    assert.equal(r.stderr.trim().split('\n').filter((l) => !/^\s+hint:/.test(l)).length, 1, r.stderr);
  });
}

test('--build-context error: a tag the oci-layout does not hold names the layout and the tag (build/opt.go resolveDigest)', async () => {
  const ctx = join(work, 'bad-layout-ctx');
  await writeTree(ctx, { Dockerfile: 'FROM lay\n' });
  const r = await runCli(['build', '--build-context', `lay=oci-layout://${layout}:nope`, ctx], { root, cwd: work });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /Dockerfile:1:1: .*oci-layout:\/\/.*layout:nope: no image tagged "nope"/);
});
