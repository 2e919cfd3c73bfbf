import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { runCli } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { gitHttpBackend, startFileServer, type FileServer } from '../helpers/file-server.js';
import { writeTree } from '../helpers/files.js';
import { freePort } from '../helpers/registry-server.js';

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
/** Serves a tarball, a plain file, a 404 and a git repository (smart HTTP) on 127.0.0.1. */
let srv: FileServer;
let repo: string;
let commits: { c1: string; c2: string };
/** The tarball's bytes, changed by a test to see the context's cache keys follow its content. */
let tarBody: Buffer;
const NO_PROXY_ENV = { HTTP_PROXY: '', http_proxy: '', HTTPS_PROXY: '', https_proxy: '', NO_PROXY: '', no_proxy: '' };

async function gitIn(cwd: string, ...args: string[]): Promise<string> {
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_DATE: '2020-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2020-01-01T00:00:00Z' };
  const { stdout } = await exec('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, env });
  return stdout.trim();
}

/** `files` as a gzipped tarball (made by tar, not by us). */
async function tarball(name: string, files: Record<string, string>): Promise<Buffer> {
  const dir = join(work, `${name}-src`);
  await writeTree(dir, files);
  await exec('tar', ['-czf', join(work, `${name}.tar.gz`), '-C', dir, '.']);
  return readFile(join(work, `${name}.tar.gz`));
}

before(async () => {
  ({ work, root } = await busyboxWork());
  // A second image in the store, to tell apart from busybox.
  const other = join(work, 'other-ctx');
  await writeTree(other, { Dockerfile: 'FROM busybox\nRUN echo other > /marker\n' });
  assert.equal((await runCli(['build', '-q', '-t', 'other:1', other], { root })).code, 0);
  // A named directory with its own .dockerignore.
  srcDir = join(work, 'named-src');
  await writeTree(srcDir, { 'a.txt': 'from the named dir\n', 'ignored.log': 'never seen\n', '.dockerignore': '*.log\n', 'sub/b.txt': 'b\n' });
  // An OCI layout written by skopeo (a tool we did not write) from saved images (the store's
  // own oci/ lacks the tars of extracted layers: store/tar-split.ts).
  layout = join(work, 'layout');
  for (const [image, tag] of [['other:1', 'v1'], ['busybox:latest', 'v2']]) {
    const saved = join(work, `saved-${tag}.tar`);
    assert.equal((await runCli(['save', '--format', 'oci', '-o', saved, image], { root })).code, 0);
    // With two images in it, a tag must name one (with one, buildx takes it whatever the tag).
    await exec('skopeo', ['copy', `oci-archive:${saved}:${image.split(':')[1]}`, `oci:${layout}:${tag}`]);
  }
  // A repository: v1 (a.txt "one", sub/b.txt), then main (a.txt "two").
  const gitSrc = join(work, 'git-src');
  await writeTree(gitSrc, { 'a.txt': 'one\n', 'sub/b.txt': 'bee\n' });
  await gitIn(gitSrc, 'init', '-q', '-b', 'main');
  await gitIn(gitSrc, 'add', '.');
  await gitIn(gitSrc, 'commit', '-q', '-m', 'first');
  await gitIn(gitSrc, 'tag', 'v1');
  await writeFile(join(gitSrc, 'a.txt'), 'two\n');
  await gitIn(gitSrc, 'commit', '-q', '-am', 'second');
  await mkdir(join(work, 'repos'));
  await gitIn(work, 'clone', '-q', '--bare', gitSrc, join(work, 'repos', 'repo.git'));
  commits = { c1: await gitIn(gitSrc, 'rev-parse', 'v1'), c2: await gitIn(gitSrc, 'rev-parse', 'main') };
  tarBody = await tarball('ctx1', { 'app/run.sh': 'echo run\n', 'top.txt': 'top one\n' });
  const notTar = 'just a file\n';
  srv = await startFileServer(
    {
      '/ctx.tar.gz': (_req, res) => void res.writeHead(200, { 'content-length': tarBody.length }).end(tarBody),
      '/notes.txt': (_req, res) => void res.writeHead(200).end(notTar),
    },
    { prefixes: { '/git/': gitHttpBackend('/git/', join(work, 'repos')) } },
  );
  repo = `${srv.url}/git/repo.git`;
});

after(async () => {
  await srv?.close();
});

/** Build `dockerfile` with `args`, its final stage's files written to a fresh directory (returned). */
async function build(dockerfile: string, args: string[]): Promise<{ out: string; stderr: string }> {
  const ctx = join(work, `ctx-${n}`);
  const out = join(work, `out-${n++}`);
  await writeTree(ctx, { Dockerfile: dockerfile, 'main.txt': 'from the main context\n' });
  const r = await runCli(['build', '--progress', 'plain', '-o', out, ...args, ctx], { root, cwd: work, env: NO_PROXY_ENV });
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

// Remote contexts: BuildKit frontend/dockerui/namedcontext.go turns an http(s) value into a git
// state when DetectGitContext says so (a .git path, git@, ssh://, git://), else an HTTP state;
// an HTTP file, a tarball too, is the one file `context` (llb.Filename("context"); buildx
// passes the URL through as context:NAME, build/opt.go): BuildKit does not unpack it.
test('an https tarball context is one file named "context", not unpacked: FROM NAME, COPY --from=NAME and RUN --mount=from=NAME see it', async () => {
  const { out } = await build(
    'FROM web AS w\nFROM busybox\nCOPY --from=w /context /from-stage.tgz\nCOPY --from=web context /ctx.tgz\n' +
      'RUN --mount=from=web,target=/m ls /m > /from-mount\n',
    ['--build-context', `web=${srv.url}/ctx.tar.gz`],
  );
  assert.deepEqual(await readFile(join(out, 'from-stage.tgz')), tarBody);
  assert.deepEqual(await readFile(join(out, 'ctx.tgz')), tarBody);
  assert.equal(await read(out, 'from-mount'), 'context\n');
});

test('an https context that is not a tar is one file named "context"', async () => {
  const { out } = await build('FROM busybox\nCOPY --from=n /context /notes\n', ['--build-context', `n=${srv.url}/notes.txt`]);
  assert.equal(await read(out, 'notes'), 'just a file\n');
});

test('an https context\'s cache keys follow its content: unchanged CACHED, changed rerun', async () => {
  const df = 'FROM busybox\nCOPY --from=web context /ctx.tgz\nRUN wc -c < /ctx.tgz > /seen\n';
  const ctx = ['--build-context', `web=${srv.url}/ctx.tar.gz`];
  const first = await build(df, ctx);
  assert.equal((await read(first.out, 'seen')).trim(), String(tarBody.length));
  const again = await build(df, ctx);
  assert.match(again.stderr, /COPY --from=web context \/ctx.tgz\n#\d+ CACHED/);
  const before = tarBody;
  tarBody = await tarball('ctx2', { 'top.txt': 'top two, a longer file\n', 'more.txt': 'more\n' });
  try {
    const changed = await build(df, ctx);
    assert.deepEqual(await readFile(join(changed.out, 'ctx.tgz')), tarBody);
    assert.doesNotMatch(changed.stderr, /COPY --from=web context \/ctx.tgz\n#\d+ CACHED/);
  } finally {
    tarBody = before;
  }
});

test('a git context: the remote HEAD, a tag, a commit and #ref:subdir, without .git', async () => {
  const head = await build('FROM busybox\nCOPY --from=g / /g/\nRUN test ! -e /g/.git\n', ['--build-context', `g=${repo}`]);
  assert.equal(await read(head.out, 'g/a.txt'), 'two\n');
  const tag = await build('FROM g AS src\nFROM busybox\nCOPY --from=src /a.txt /a.txt\n', ['--build-context', `g=${repo}#v1`]);
  assert.equal(await read(tag.out, 'a.txt'), 'one\n');
  const commit = await build('FROM busybox\nRUN --mount=from=g,target=/m cat /m/a.txt > /a.txt\n', ['--build-context', `g=${repo}#${commits.c1}`]);
  assert.equal(await read(commit.out, 'a.txt'), 'one\n');
  const sub = await build('FROM busybox\nCOPY --from=g b.txt /b.txt\n', ['--build-context', `g=${repo}#main:sub`]);
  assert.equal(await read(sub.out, 'b.txt'), 'bee\n');
  const left = (await readdir(join(root, 'tmp')).catch(() => [] as string[])).filter((d) => d.includes('build-context-'));
  assert.deepEqual(left, [], 'what the contexts were fetched into is removed after each build');
});

test('a git context named like a stage replaces it; a rebuild at the same commit is CACHED', async () => {
  const df = 'FROM busybox AS code\nRUN echo no > /a.txt\nFROM busybox\nCOPY --from=code /a.txt /a.txt\n';
  const ctx = ['--build-context', `code=${repo}#${commits.c2}`];
  const first = await build(df, ctx);
  assert.equal(await read(first.out, 'a.txt'), 'two\n');
  const again = await build(df, ctx);
  assert.match(again.stderr, /COPY --from=code \/a.txt \/a.txt\n#\d+ CACHED/);
});

const badRemote: { name: string; value: () => string; cause: () => RegExp }[] = [
  { name: 'a 404', value: () => `${srv.url}/missing.tar`, cause: () => new RegExp(`Dockerfile:1:1: error\\[http-status\\]: ${srv.url}/missing.tar: 404 Not Found`) },
  { name: 'a refused connection', value: () => `http://127.0.0.1:${closedPort}/ctx.tar`, cause: () => new RegExp(`error\\[http-refused\\]: http://127.0.0.1:${closedPort}/ctx.tar: connection refused`) },
  { name: 'a git ref the repository does not have', value: () => `${repo}#no-such-ref`, cause: () => new RegExp(`Dockerfile:1:1: error\\[git-no-ref\\]: ${repo}: repository does not contain ref no-such-ref`) },
];
let closedPort = 0;
for (const c of badRemote) {
  test(`--build-context error: ${c.name} is one line at the instruction that uses it`, async () => {
    closedPort ||= await freePort();
    const ctx = join(work, 'bad-remote-ctx');
    await writeTree(ctx, { Dockerfile: 'FROM x\n' });
    const r = await runCli(['build', '--build-context', `x=${c.value()}`, ctx], { root, cwd: work, env: NO_PROXY_ENV });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, c.cause());
    // One error line, then the Dockerfile excerpt with its caret.
    assert.equal(r.stderr.match(/error\[/g)?.length, 1, r.stderr);
    assert.match(r.stderr, /error\[.*\n +1 \| FROM x\n +\| \^+\n/);
    assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');
  });
}

const bad: { name: string; args: () => string[]; code: number; cause: RegExp }[] = [
  { name: 'a directory that is not there', args: () => ['--build-context', `x=${join(work, 'nowhere')}`], code: 1, cause: /--build-context x: path ".*nowhere" not found/ },
  { name: 'a file, not a directory', args: () => ['--build-context', `x=${join(srcDir, 'a.txt')}`], code: 1, cause: /is not a directory/ },
  { name: 'no NAME=', args: () => ['--build-context', 'justaname'], code: 2, cause: /invalid context value: justaname, expected key=value/ },
  { name: 'a git@ value that is no repository', args: () => ['--build-context', 'x=git@nohost'], code: 2, cause: /--build-context x=git@nohost: not an http\(s\) URL or a git repository/ },
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
