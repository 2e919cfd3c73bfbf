/**
 * Multi-platform images end to end, with real emulation: qemu-user-static's binfmt_misc
 * handlers (.ci/run registers them) run an arm64 busybox (Debian's busybox-static:arm64)
 * in the sandbox. Semantics followed: BuildKit's dockerfile2llb/convert.go (TARGET* and
 * BUILD* args, FROM --platform), its containerimage exporter (one manifest per platform,
 * in the --platform order, each descriptor naming its platform), containerd's platform
 * matcher (test/common/platform.test.ts).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { makeTwoArchBusybox } from '../helpers/busybox-arm64.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { writeTree } from '../helpers/files.js';
import { tempDir } from '../helpers/temp.js';

const exec = promisify(execFile);

let work: string;
let root: string;
let registry: RegistryServer;

before(async () => {
  work = await tempDir('tsbuild-multi-');
  root = join(work, 'root');
  await makeTwoArchBusybox(root, work);
  registry = await startRegistry();
});
after(async () => {
  await registry?.stop();
});

const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };

async function project(name: string, dockerfile: string): Promise<string> {
  const dir = join(work, name);
  await writeTree(dir, { Dockerfile: dockerfile, 'a.txt': 'a\n' });
  return dir;
}

async function build(dir: string, ...flags: string[]) {
  return runCli(['build', '--progress', 'plain', ...flags, dir], { root, env });
}

// The per-platform base: `FROM busybox:$TARGETARCH` (busybox:amd64, busybox:arm64 in the store).
const REPORT = `ARG TARGETARCH
FROM busybox:\${TARGETARCH}
ARG TARGETARCH TARGETPLATFORM TARGETVARIANT BUILDPLATFORM BUILDARCH
RUN echo "$(uname -m) $TARGETARCH $TARGETPLATFORM [$TARGETVARIANT] $BUILDPLATFORM $BUILDARCH" > /report
CMD ["cat", "/report"]
`;

test('RUN under --platform linux/arm64 runs the arm64 binaries through qemu, in the sandbox', async () => {
  const r = await build(await project('one-arm', REPORT), '--platform', 'linux/arm64', '-t', 'one-arm');
  assert.equal(r.code, 0, r.stderr);
  const run = await runCli(['run', '--rm', 'one-arm'], { root });
  assert.equal(run.stdout, 'aarch64 arm64 linux/arm64 [] linux/amd64 amd64\n', run.stderr);
  const arch = await runCli(['inspect', '-f', '{{.Architecture}} {{.Os}}', 'one-arm'], { root });
  assert.equal(arch.stdout.trim(), 'arm64 linux');
  // One platform is one manifest, not an index (BuildKit's exporter does the same).
  const raw = JSON.parse((await exec('skopeo', ['inspect', '--raw', `oci:${root}/oci:docker.io/library/one-arm:latest`])).stdout);
  assert.equal(raw.mediaType, 'application/vnd.oci.image.manifest.v1+json');
});

test('a two-platform build gives an index in --platform order that skopeo and umoci read; each child has its own arch and TARGETARCH', async () => {
  const r = await build(await project('two', REPORT), '--platform', 'linux/arm64,linux/amd64', '-t', 'two');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\[linux\/arm64 2\/2\] RUN/);
  const layout = `${root}/oci:docker.io/library/two:latest`;
  const index = JSON.parse((await exec('skopeo', ['inspect', '--raw', `oci:${layout}`])).stdout);
  assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
  assert.deepEqual(index.manifests.map((m: { platform: object }) => m.platform), [{ architecture: 'arm64', os: 'linux' }, { architecture: 'amd64', os: 'linux' }]);
  for (const [arch, uname] of [['arm64', 'aarch64'], ['amd64', 'x86_64']]) {
    const copy = join(work, `two-${arch}`);
    await exec('skopeo', ['copy', '--override-arch', arch, `oci:${layout}`, `oci:${copy}:img`]);
    const config = JSON.parse((await exec('skopeo', ['inspect', '--config', `oci:${copy}:img`])).stdout);
    assert.equal(config.architecture, arch);
    const bundle = join(work, `bundle-${arch}`);
    await exec('umoci', ['unpack', '--image', `${copy}:img`, bundle]);
    assert.equal(await readFile(join(bundle, 'rootfs', 'report'), 'utf8'), `${uname} ${arch} linux/${arch} [] linux/amd64 amd64\n`);
  }
  // The store lists it once, with its platforms; run and inspect pick one.
  const images = await runCli(['images', 'two'], { root });
  assert.equal(images.stdout.split('\n').filter((l) => l.startsWith('two ')).length, 1, images.stdout);
  assert.match(images.stdout, /PLATFORMS[\s\S]*linux\/arm64,linux\/amd64/);
  const arm = await runCli(['run', '--rm', '--platform', 'linux/arm64', 'two'], { root });
  assert.match(arm.stdout, /^aarch64 arm64 /, arm.stderr);
  const host = await runCli(['inspect', '-f', '{{.Architecture}}', 'two'], { root });
  assert.equal(host.stdout.trim(), 'amd64');
  const pick = await runCli(['inspect', '--platform', 'linux/arm64', '-f', '{{.Architecture}}', 'two'], { root });
  assert.equal(pick.stdout.trim(), 'arm64');
  // A docker archive holds one platform: --platform, or one clear error.
  const whole = await runCli(['save', '-o', join(work, 'two.tar'), 'two'], { root });
  assert.equal(whole.code, 1);
  assert.match(whole.stderr, /error\[save-multi-platform\]: two is a multi-platform image \(linux\/arm64, linux\/amd64\): save one platform with --platform/);
  const one = await runCli(['save', '--platform', 'linux/arm64', '-o', join(work, 'two-arm64.tar'), 'two'], { root });
  assert.equal(one.code, 0, one.stderr);
  assert.equal(JSON.parse((await exec('skopeo', ['inspect', `docker-archive:${join(work, 'two-arm64.tar')}`])).stdout).Architecture, 'arm64');
  // Nothing changed: every platform's steps come from the cache.
  const again = await build(join(work, 'two'), '--platform', 'linux/arm64,linux/amd64', '-t', 'two');
  assert.equal(again.code, 0, again.stderr);
  // The two RUN vertices (one per platform), both CACHED; nothing ran.
  assert.equal(again.stderr.match(/^#\d+ CACHED$/gm)?.length, 2, again.stderr);
  const fsck = await runCli(['fsck'], { root });
  assert.equal(fsck.code, 0, fsck.stdout + fsck.stderr);
});

test('the $BUILDPLATFORM builder stage runs once, natively, and both platform images get its output', async () => {
  const dir = await project(
    'cross',
    `FROM --platform=$BUILDPLATFORM busybox:amd64 AS build
RUN --mount=type=cache,id=cross-runs,target=/runs echo run >> /runs/count && uname -m > /built && cp /runs/count /count
ARG TARGETARCH
FROM busybox:\${TARGETARCH}
COPY --from=build /built /count /
`,
  );
  const r = await build(dir, '--platform', 'linux/amd64,linux/arm64', '-t', 'cross');
  assert.equal(r.code, 0, r.stderr);
  for (const p of ['linux/amd64', 'linux/arm64']) {
    const out = await runCli(['run', '--rm', '--platform', p, 'cross', 'cat', '/built', '/count'], { root });
    // Built on the host's CPU, and the cache mount saw one run (a second would append a line).
    assert.equal(out.stdout, 'x86_64\nrun\n', `${p}: ${out.stderr}`);
  }
});

test('push then pull into an empty store gives back the same index digest', async () => {
  const name = `${registry.host}/multi/two:1`;
  assert.equal((await runCli(['tag', 'two', name], { root })).code, 0);
  const push = await runCli(['push', name], { root });
  assert.equal(push.code, 0, push.stderr);
  const digest = /1: digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1];
  assert.ok(digest, push.stdout);
  const remote = JSON.parse((await exec('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${name}`])).stdout);
  assert.equal(remote.manifests.length, 2);
  const other = join(work, 'root-pulled');
  const pull = await runCli(['pull', '--platform', 'linux/arm64,linux/amd64', name], { root: other });
  assert.equal(pull.code, 0, pull.stderr);
  assert.ok(pull.stdout.includes(`Digest: ${digest}`), pull.stdout);
  // Pushed again from the pulled store: the registry gets the very same index.
  const again = `${registry.host}/multi/again:1`;
  assert.equal((await runCli(['tag', name, again], { root: other })).code, 0);
  const repush = await runCli(['push', again], { root: other });
  assert.ok(repush.stdout.includes(`1: digest: ${digest}`), repush.stdout + repush.stderr);
  const arm = await runCli(['run', '--rm', '--platform', 'linux/arm64', name], { root: other });
  assert.match(arm.stdout, /^aarch64 /, arm.stderr);
  // rmi removes the whole index.
  const rmi = await runCli(['rmi', name, again], { root: other });
  assert.equal(rmi.code, 0, rmi.stderr);
  const left = await runCli(['images', '-q'], { root: other });
  assert.equal(left.stdout, '');
});

test('without a registered qemu handler a foreign RUN fails with one line naming qemu-user-static', async () => {
  const binfmt = join(work, 'binfmt');
  await mkdir(binfmt, { recursive: true });
  const dir = await project('no-qemu', 'FROM busybox:arm64\nRUN true\n');
  const cases = [
    { files: {}, why: 'no binfmt_misc handler qemu-aarch64 is registered' },
    { files: { 'qemu-aarch64': 'enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: P\noffset 0\n' }, why: 'the binfmt_misc handler qemu-aarch64 lacks the F (fix-binary) flag' },
  ];
  for (const c of cases) {
    for (const [f, text] of Object.entries(c.files)) await writeFile(join(binfmt, f), text);
    const r = await runCli(['build', '--progress', 'plain', '--no-cache', '--platform', 'linux/arm64', dir], { root, env: { ...env, TSBUILD_BINFMT_DIR: binfmt } });
    assert.equal(r.code, 1, r.stderr);
    const line = r.stderr.split('\n').find((l) => l.includes('error[emulation-missing]'));
    assert.ok(line, r.stderr);
    assert.ok(line.includes(`RUN for linux/arm64 needs QEMU user emulation, but ${c.why}`), line);
    assert.ok(line.includes('install qemu-user-static') && line.includes('update-binfmts --enable'), line);
    assert.match(line, /Dockerfile:2:1/);
  }
});

test('a plain base image of another platform is refused for a foreign build, not used silently', async () => {
  const r = await build(await project('wrong-base', 'FROM busybox:amd64\nCOPY a.txt /\n'), '--platform', 'linux/arm64');
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /error\[base-platform-mismatch\]: busybox:amd64: the store's image is linux\/amd64, not linux\/arm64/);
});
