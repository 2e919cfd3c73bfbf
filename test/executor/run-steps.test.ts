import assert from 'node:assert/strict';
import { lstat, readFile, readlink, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree } from '../helpers/files.js';
import { readLayoutImage, saveAndUnpack } from '../helpers/unpack.js';

let root: string;
let work: string;

before(async () => {
  ({ work, root } = await busyboxWork());
});

async function build(name: string, dockerfile: string, args: string[] = []) {
  const ctx = join(work, `ctx-${name}`);
  await writeTree(ctx, { Dockerfile: dockerfile });
  return runCli(['build', '--progress', 'plain', ...args, '-t', name, ctx], { root });
}

async function unpack(name: string) {
  const dir = join(work, `unpack-${name}`);
  const saved = await saveAndUnpack(root, name, dir);
  return { rootfs: join(saved.bundle, 'rootfs'), image: await readLayoutImage(saved.layout) };
}

test('RUN steps: new files, deletions (whiteouts), opaque dir replacement, links, modes and owners', async () => {
  const r = await build(
    'changes',
    `FROM busybox
RUN mkdir -p /opt/keep /opt/replace && echo old > /opt/replace/old && echo gone > /etc/gone && echo stay > /opt/keep/stay
RUN rm /etc/gone && rm -rf /opt/replace && mkdir /opt/replace && echo new > /opt/replace/new
RUN echo data > /opt/file && ln /opt/file /opt/hard && ln -s file /opt/soft && chown 12:34 /opt/file && chmod 4750 /opt/file
RUN echo "$GREETING from $(pwd) as $(id -u)" > /opt/env
`,
  );
  assert.equal(r.code, 0, r.stderr);
  const { rootfs, image } = await unpack('changes');
  await assert.rejects(lstat(join(rootfs, 'etc/gone')), 'a file deleted by a later RUN is gone');
  assert.deepEqual(await readdir(join(rootfs, 'opt/replace')), ['new'], 'a replaced dir holds only its new content');
  assert.equal(await readFile(join(rootfs, 'opt/keep/stay'), 'utf8'), 'stay\n');
  const file = await lstat(join(rootfs, 'opt/file'));
  assert.equal(file.mode & 0o7777, 0o4750);
  assert.equal(file.uid, 12);
  assert.equal(file.gid, 34);
  assert.equal((await lstat(join(rootfs, 'opt/hard'))).ino, file.ino, 'hardlink kept');
  assert.equal(await readlink(join(rootfs, 'opt/soft')), 'file');
  assert.equal(image.config.rootfs.diff_ids.length, 5, 'base + 4 RUN layers');
});

test('ENV, ARG, WORKDIR and USER apply to RUN; ARG values are not persisted', async () => {
  const r = await build(
    'scoping',
    `FROM busybox
ARG TOKEN=default
ENV GREETING=hello
WORKDIR /work/dir
RUN echo "$GREETING $TOKEN $(pwd)" > out
USER nobody
RUN id -u > /tmp/uid
`,
    ['--build-arg', 'TOKEN=given'],
  );
  assert.equal(r.code, 0, r.stderr);
  const { rootfs, image } = await unpack('scoping');
  assert.equal(await readFile(join(rootfs, 'work/dir/out'), 'utf8'), 'hello given /work/dir\n');
  assert.equal(await readFile(join(rootfs, 'tmp/uid'), 'utf8'), '65534\n');
  const env = image.config.config.Env as string[];
  assert.ok(env.includes('GREETING=hello'));
  assert.ok(!env.some((e) => e.startsWith('TOKEN=')));
  assert.ok(image.config.history.some((h) => h.created_by === 'RUN |1 TOKEN=given /bin/sh -c echo "$GREETING $TOKEN $(pwd)" > out # buildkit'));
});

test('exec form, SHELL and heredocs', async () => {
  const r = await build(
    'forms',
    `FROM busybox
RUN ["/bin/sh", "-c", "echo exec > /exec"]
SHELL ["/bin/sh", "-ec"]
RUN echo shell > /shell
RUN <<EOF
echo one > /heredoc
echo two >> /heredoc
EOF
`,
  );
  assert.equal(r.code, 0, r.stderr);
  const { rootfs } = await unpack('forms');
  assert.equal(await readFile(join(rootfs, 'exec'), 'utf8'), 'exec\n');
  assert.equal(await readFile(join(rootfs, 'shell'), 'utf8'), 'shell\n');
  assert.equal(await readFile(join(rootfs, 'heredoc'), 'utf8'), 'one\ntwo\n');
});

test('a RUN that changes nothing adds no layer (empty_layer in history)', async () => {
  const r = await build('nochange', 'FROM busybox\nRUN true\n');
  assert.equal(r.code, 0, r.stderr);
  const { image } = await unpack('nochange');
  assert.equal(image.config.rootfs.diff_ids.length, 1);
  assert.equal(image.config.history[image.config.history.length - 1].empty_layer, true);
});

test('a failing RUN stops the build: exit 1, the step, its exit code and its last output', async () => {
  const r = await build('failing', 'FROM busybox\nRUN echo before\nRUN echo "last words" && exit 3\nRUN echo never\n');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Dockerfile:3:1: error\[run-failed\]: RUN exited with code 3/);
  assert.match(r.stderr, /last words/);
  assert.doesNotMatch(r.stderr, /never/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('a failed build keeps the steps before the failure cached', async () => {
  const dockerfile = (last: string) => `FROM busybox\nRUN date +%s%N > /kept\n${last}\n`;
  const failed = await build('kept-after-failure', dockerfile('RUN exit 3'));
  assert.equal(failed.code, 1, failed.stderr);
  const next = await build('kept-after-failure', dockerfile('RUN true'));
  assert.equal(next.code, 0, next.stderr);
  assert.match(next.stderr, /RUN date \+%s%N > \/kept\n#\d+ CACHED/);
});

test('RUN output is streamed under its step in plain progress', async () => {
  const r = await build('streamed', 'FROM busybox\nRUN echo visible-output\n', ['--no-cache']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /#\d+ \[2\/2\] RUN echo visible-output\n#\d+ \d+\.\d+ visible-output\n/);
});

test('a cached RUN does not run again', async () => {
  const first = await build('cached-run', 'FROM busybox\nRUN date +%s%N > /stamp\n');
  assert.equal(first.code, 0, first.stderr);
  const second = await build('cached-run', 'FROM busybox\nRUN date +%s%N > /stamp\n');
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /RUN date \+%s%N > \/stamp\n#\d+ CACHED/);
});

/** The lines a cache mount `id` holds in its file `runs` (one per run of the step that appends to it). */
let counted = 0;
async function runsCounted(id: string): Promise<string[]> {
  const name = `count-${id}-${++counted}`;
  const r = await build(name, `FROM busybox\nRUN --mount=type=cache,target=/c,id=${id} cat /c/runs > /runs-seen\n`, ['--no-cache']);
  assert.equal(r.code, 0, r.stderr);
  return (await readFile(join((await unpack(name)).rootfs, 'runs-seen'), 'utf8')).split('\n').filter(Boolean);
}

test('a RUN that fills its in-memory upper dir runs once and fails with a hint; the next build puts it on disk', async () => {
  const ctx = join(work, 'ctx-fill');
  await writeTree(ctx, {
    Dockerfile: "FROM busybox\nRUN --mount=type=cache,target=/c,id=fill sh -c 'echo run >> /c/runs; dd if=/dev/zero of=/big bs=1M count=6 2>&1; echo wrote'\n",
  });
  const full = await runCli(['build', '--progress', 'plain', '-t', 'fill', ctx], { root, env: { TSBUILD_RUN_UPPER_BYTES: String(2 << 20) } });
  assert.equal(full.code, 1, full.stderr);
  assert.match(full.stderr, /error\[run-upper-full\]: the step filled its in-memory upper dir \(2 MiB\); it was not run again/);
  assert.match(full.stderr, /hint: set TSBUILD_RUN_UPPER=disk/);
  assert.match(full.stderr, /No space left on device/, 'the step\'s own output is shown');
  assert.deepEqual(await runsCounted('fill'), ['run'], 'the step ran exactly once');
  // The same step again: its memo says it outgrew memory, so its upper dir goes on disk.
  const again = await runCli(['build', '--progress', 'plain', '-t', 'fill', ctx], { root });
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(await runsCounted('fill'), ['run', 'run'], 'once more for the second build, not twice');
  assert.equal((await lstat(join((await unpack('fill')).rootfs, 'big'))).size, 6 << 20);
  assert.doesNotMatch(full.stderr + again.stderr, /running it again/);
});

test('TSBUILD_RUN_UPPER other than auto, memory or disk is a clear error', async () => {
  const ctx = join(work, 'ctx-bad-upper');
  await writeTree(ctx, { Dockerfile: 'FROM busybox\nRUN echo bad-upper\n' });
  const r = await runCli(['build', '-q', '-t', 'bad-upper', ctx], { root, env: { TSBUILD_RUN_UPPER: 'ram' } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error\[bad-setting\]: TSBUILD_RUN_UPPER="ram" is not one of auto, memory, disk/);
});

test('with TSBUILD_RUN_UPPER=disk the upper dir stays on disk', async () => {
  const ctx = join(work, 'ctx-disk');
  await writeTree(ctx, { Dockerfile: 'FROM busybox\nRUN mkdir -p /d && : > /d/f && rm -rf /etc/group\n' });
  const r = await runCli(['build', '-q', '-t', 'ondisk', ctx], { root, env: { TSBUILD_RUN_UPPER: 'disk' } });
  assert.equal(r.code, 0, r.stderr);
  const { rootfs } = await unpack('ondisk');
  assert.ok((await lstat(join(rootfs, 'd/f'))).isFile());
  await assert.rejects(lstat(join(rootfs, 'etc/group')));
});
