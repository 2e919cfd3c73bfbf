/**
 * `save --format oci` and `load` of a multi-platform image (issue 20, part 4): the whole
 * index in one OCI layout archive, as BuildKit's oci exporter and `docker save` of a
 * containerd-store image write it (index.json → an image index → one manifest per platform,
 * each descriptor naming its platform); `load` restores the index and every child. skopeo
 * and umoci are the outside readers; a docker archive keeps holding one platform only.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { makeTwoArchBusybox } from '../helpers/busybox-arm64.js';
import { writeTree } from '../helpers/files.js';
import { tempDir } from '../helpers/temp.js';

const exec = promisify(execFile);

let work: string;
let root: string;

const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };

before(async () => {
  work = await tempDir('tsbuild-multi-archive-');
  root = join(work, 'root');
  await makeTwoArchBusybox(root, work);
  const ctx = join(work, 'ctx');
  await writeTree(ctx, { Dockerfile: 'ARG TARGETARCH\nFROM busybox:${TARGETARCH}\nRUN uname -m > /report\nCMD ["cat", "/report"]\n' });
  const r = await runCli(['build', '-q', '--platform', 'linux/arm64,linux/amd64', '-t', 'two:1', ctx], { root, env });
  assert.equal(r.code, 0, r.stderr);
});

/** The store's own id of an image: for a multi-platform one, its index digest. */
async function storedId(storeRoot: string, name: string): Promise<string> {
  const r = await runCli(['images', '-q', '--no-trunc', name], { root: storeRoot });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

const sha256 = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

test('save --format oci of a multi-platform image writes the whole index, which skopeo and umoci read', async () => {
  const tar = join(work, 'two.tar');
  const save = await runCli(['save', '--format', 'oci', '-o', tar, 'two:1'], { root });
  assert.equal(save.code, 0, save.stderr);
  const layout = join(work, 'two-layout');
  await mkdir(layout);
  await exec('tar', ['-xf', tar, '-C', layout]);
  const top = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  assert.equal(top.manifests.length, 1);
  assert.equal(top.manifests[0].mediaType, 'application/vnd.oci.image.index.v1+json');
  assert.deepEqual(top.manifests[0].annotations, { 'io.containerd.image.name': 'docker.io/library/two:1', 'org.opencontainers.image.ref.name': '1' });
  // skopeo reads the index the entry points at, byte for byte, in --platform order.
  const raw = (await exec('skopeo', ['inspect', '--raw', `oci-archive:${tar}`])).stdout;
  assert.equal(sha256(raw), top.manifests[0].digest);
  const index = JSON.parse(raw);
  assert.deepEqual(index.manifests.map((m: { platform: object }) => m.platform), [{ architecture: 'arm64', os: 'linux' }, { architecture: 'amd64', os: 'linux' }]);
  // umoci lists the tag and finds every blob reachable from it (gc removes none); its unpack
  // takes one image, so one platform is copied out by skopeo first (umoci has no --platform).
  assert.equal((await exec('umoci', ['ls', '--layout', layout])).stdout, '1\n');
  const blobs = async () => (await exec('ls', [join(layout, 'blobs', 'sha256')])).stdout;
  const before = await blobs();
  await exec('umoci', ['gc', '--layout', layout]);
  assert.equal(await blobs(), before, 'umoci gc found an unreachable blob');
  for (const [arch, uname] of [['arm64', 'aarch64'], ['amd64', 'x86_64']]) {
    const one = join(work, `one-${arch}`);
    await exec('skopeo', ['copy', '--override-arch', arch, `oci-archive:${tar}`, `oci:${one}:img`]);
    const bundle = join(work, `bundle-${arch}`);
    await exec('umoci', ['unpack', '--image', `${one}:img`, bundle]);
    assert.equal(await readFile(join(bundle, 'rootfs', 'report'), 'utf8'), `${uname}\n`);
  }
});

test('load of a saved index restores it whole: listed once with its platforms, each runnable, and saved again to the same bytes', async () => {
  const tar = join(work, 'two-gzip.tar');
  assert.equal((await runCli(['save', '--format', 'oci', '-o', tar, 'two:1'], { root })).code, 0);
  const other = join(work, 'root-loaded');
  const load = await runCli(['load', '-i', tar], { root: other });
  assert.equal(load.code, 0, load.stderr);
  assert.equal(load.stdout, 'Loaded image: two:1\n');
  const images = await runCli(['images'], { root: other });
  const rows = images.stdout.split('\n').filter((l) => l.startsWith('two '));
  assert.equal(rows.length, 1, images.stdout);
  assert.match(rows[0], /linux\/arm64,linux\/amd64$/);
  for (const [platform, uname] of [['linux/arm64', 'aarch64'], ['linux/amd64', 'x86_64']]) {
    const run = await runCli(['run', '--rm', '--platform', platform, 'two:1'], { root: other });
    assert.equal(run.stdout, `${uname}\n`, run.stderr);
  }
  // The loaded store holds the same index: saving it again gives the archive again.
  const again = join(work, 'two-again.tar');
  assert.equal((await runCli(['save', '--format', 'oci', '-o', again, 'two:1'], { root: other })).code, 0);
  assert.equal(sha256(await readFile(again)), sha256(await readFile(tar)));
  const fsck = await runCli(['fsck'], { root: other });
  assert.equal(fsck.code, 0, fsck.stdout + fsck.stderr);
});

test('an index saved with uncompressed layers loads into an empty store under the very same index digest', async () => {
  const tar = join(work, 'two-plain.tar');
  const save = await runCli(['save', '--format', 'oci', '--compression', 'uncompressed', '-o', tar, 'two:1'], { root });
  assert.equal(save.code, 0, save.stderr);
  const other = join(work, 'root-plain');
  assert.equal((await runCli(['load', '-i', tar], { root: other })).code, 0);
  assert.equal(await storedId(other, 'two:1'), await storedId(root, 'two:1'));
  // A docker archive still holds one platform: the whole index is refused with the way out.
  const docker = await runCli(['save', '-o', join(work, 'two-docker.tar'), 'two:1'], { root: other });
  assert.equal(docker.code, 1);
  assert.match(docker.stderr, /error\[save-multi-platform\]: two:1 is a multi-platform image \(linux\/arm64, linux\/amd64\): save one platform with --platform, or the whole index with --format oci/);
});

test('save --platform of a multi-platform image in OCI format still writes that one platform', async () => {
  const tar = join(work, 'two-arm64-oci.tar');
  assert.equal((await runCli(['save', '--format', 'oci', '--platform', 'linux/arm64', '-o', tar, 'two:1'], { root })).code, 0);
  const raw = JSON.parse((await exec('skopeo', ['inspect', '--raw', `oci-archive:${tar}`])).stdout);
  assert.equal(raw.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(JSON.parse((await exec('skopeo', ['inspect', '--config', `oci-archive:${tar}`])).stdout).architecture, 'arm64');
});
