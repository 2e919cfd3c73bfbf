/**
 * `--output` of a multi-platform build (issue 20, part 4), as BuildKit's exporters write a
 * result with one ref per platform: type=local and type=tar put each platform's files in a
 * directory named for it (`linux_amd64/`: exporter/local/export.go, exporter/tar/export.go,
 * its README's platform-split example, which the Dockerfile below is); `platform-split=false`
 * merges them and refuses a file two platforms both have, with BuildKit's message; type=oci
 * is the image index (exporter/oci/export.go with WithAllPlatforms); type=docker cannot hold
 * one ("docker exporter does not currently support exporting manifest lists").
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, readdir } from 'node:fs/promises';
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
let split: string;
let overlap: string;

const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
const PLATFORMS = 'linux/amd64,linux/arm64';

before(async () => {
  work = await tempDir('tsbuild-multi-out-');
  root = join(work, 'root');
  await makeTwoArchBusybox(root, work);
  split = join(work, 'split');
  await writeTree(split, {
    Dockerfile: `ARG TARGETARCH
FROM busybox:\${TARGETARCH} AS build
ARG TARGETOS TARGETARCH
RUN mkdir /out && uname -m > /out/hello-$TARGETOS-$TARGETARCH
FROM scratch
COPY --from=build /out /
`,
  });
  overlap = join(work, 'overlap');
  await writeTree(overlap, { Dockerfile: 'ARG TARGETARCH\nFROM busybox:${TARGETARCH}\nCOPY a.txt /\n', 'a.txt': 'a\n' });
});

async function build(dir: string, ...flags: string[]) {
  return runCli(['build', '--progress', 'plain', '--platform', PLATFORMS, ...flags, dir], { root, env });
}

const sha256 = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const exists = (p: string) => access(p).then(() => true, () => false);

test('type=local writes each platform in its own directory, linux_amd64/ and linux_arm64/', async () => {
  const dest = join(work, 'bin');
  const r = await build(split, '-o', `type=local,dest=${dest}`);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readdir(dest), ['linux_amd64', 'linux_arm64']);
  assert.deepEqual(await readdir(join(dest, 'linux_amd64')), ['hello-linux-amd64']);
  assert.deepEqual(await readdir(join(dest, 'linux_arm64')), ['hello-linux-arm64']);
  assert.equal(await readFile(join(dest, 'linux_amd64', 'hello-linux-amd64'), 'utf8'), 'x86_64\n');
  assert.equal(await readFile(join(dest, 'linux_arm64', 'hello-linux-arm64'), 'utf8'), 'aarch64\n');
});

test('type=local,platform-split=false merges the platforms, and refuses a file both have before writing anything', async () => {
  const dest = join(work, 'merged');
  const r = await build(split, '-o', `type=local,dest=${dest},platform-split=false`);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readdir(dest), ['hello-linux-amd64', 'hello-linux-arm64']);
  const clash = join(work, 'clash');
  const bad = await build(overlap, '-o', `type=local,dest=${clash},platform-split=false`);
  assert.equal(bad.code, 1, bad.stderr);
  const line = bad.stderr.split('\n').find((l) => l.includes('error[output-overlap]'));
  assert.ok(line?.includes('cannot overwrite a.txt from linux/amd64 with linux/arm64 when split option is disabled'), bad.stderr);
  assert.equal(await exists(clash), false, 'nothing was written');
});

test('type=tar holds each platform under its directory, in name order, at SOURCE_DATE_EPOCH', async () => {
  const tar = join(work, 'out.tar');
  const r = await build(split, '-o', `type=tar,dest=${tar}`);
  assert.equal(r.code, 0, r.stderr);
  const list = (await exec('tar', ['--numeric-owner', '--full-time', '-tvf', tar], { env: { ...process.env, TZ: 'UTC' } })).stdout.trim().split('\n');
  assert.deepEqual(list.map((l) => l.split(/\s+/).slice(5).join(' ')), ['linux_amd64/', 'linux_amd64/hello-linux-amd64', 'linux_arm64/', 'linux_arm64/hello-linux-arm64']);
  for (const l of list) assert.match(l, /^\S+ 0\/0 .* 2023-11-14 22:13:20 /, l);
  const out = join(work, 'out-tar');
  await mkdir(out);
  await exec('tar', ['-xf', tar, '-C', out]);
  assert.equal(await readFile(join(out, 'linux_arm64', 'hello-linux-arm64'), 'utf8'), 'aarch64\n');
  // BuildKit's tar exporter always splits several platforms: the option cannot say otherwise.
  const merged = await build(split, '-o', `type=tar,dest=${join(work, 'merged.tar')},platform-split=false`);
  assert.equal(merged.code, 2);
  assert.match(merged.stderr, /type=tar puts each platform in a directory of its own exactly when the build has several platforms .*platform-split=false cannot change that; use type=local for it/);
});

test('type=oci writes the image index, the same one save --format oci writes of the stored image; uncompressed, it loads as the store\'s own index', async () => {
  const tar = join(work, 'oci.tar');
  const layout = join(work, 'oci-dir');
  const iid = join(work, 'oci.iid');
  const r = await build(split, '-t', 'multi-out:1', '--iidfile', iid, '-o', `type=oci,dest=${tar}`, '-o', `type=oci,tar=false,dest=${layout}`, '-o', 'type=image');
  assert.equal(r.code, 0, r.stderr);
  const raw = (await exec('skopeo', ['inspect', '--raw', `oci-archive:${tar}`])).stdout;
  const index = JSON.parse(raw);
  assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
  assert.deepEqual(index.manifests.map((m: { platform: object }) => m.platform), [{ architecture: 'amd64', os: 'linux' }, { architecture: 'arm64', os: 'linux' }]);
  const top = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  assert.deepEqual(top.manifests.map((m: { mediaType: string; digest: string }) => [m.mediaType, m.digest]), [['application/vnd.oci.image.index.v1+json', sha256(raw)]]);
  assert.equal(top.manifests[0].annotations['org.opencontainers.image.ref.name'], '1');
  const saved = join(work, 'saved.tar');
  assert.equal((await runCli(['save', '--format', 'oci', '-o', saved, 'multi-out:1'], { root })).code, 0);
  assert.equal(sha256(await readFile(saved)), sha256(await readFile(tar)), 'the build output and the save of the stored image are the same archive');
  for (const [arch, name] of [['amd64', 'hello-linux-amd64'], ['arm64', 'hello-linux-arm64']]) {
    const one = join(work, `oci-${arch}`);
    await exec('skopeo', ['copy', '--override-arch', arch, `oci:${layout}:1`, `oci:${one}:img`]);
    const bundle = join(work, `oci-bundle-${arch}`);
    await exec('umoci', ['unpack', '--image', `${one}:img`, bundle]);
    assert.deepEqual(await readdir(join(bundle, 'rootfs')), [name]);
  }
  // With the layers as stored, the output loads into an empty store as the store's very index
  // (the archive itself leaves out the store's private layer annotations, as push does).
  const plain = join(work, 'oci-plain.tar');
  const again = await build(split, '-t', 'multi-out:1', '-o', `type=oci,dest=${plain},compression=uncompressed`);
  assert.equal(again.code, 0, again.stderr);
  const other = join(work, 'root-oci-loaded');
  assert.equal((await runCli(['load', '-i', plain], { root: other })).code, 0);
  const loaded = await runCli(['images', '-q', '--no-trunc', 'multi-out:1'], { root: other });
  assert.equal(loaded.stdout.trim(), (await readFile(iid, 'utf8')).trim());
});

test('type=docker of a multi-platform build is one error line naming the platforms, before anything runs', async () => {
  const tar = join(work, 'docker.tar');
  const r = await build(split, '-o', `type=docker,dest=${tar}`);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /docker exporter does not currently support exporting manifest lists \(this build makes linux\/amd64, linux\/arm64\): use type=oci, or build one --platform/);
  assert.doesNotMatch(r.stderr, /RUN/);
  assert.equal(await exists(tar), false);
});

test('one platform: platform-split=true puts its files in its directory too, as BuildKit does', async () => {
  const dest = join(work, 'one');
  const r = await runCli(['build', '--progress', 'plain', '--platform', 'linux/arm64', '-o', `type=local,dest=${dest},platform-split=true`, split], { root, env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readdir(dest), ['linux_arm64']);
  assert.deepEqual(await readdir(join(dest, 'linux_arm64')), ['hello-linux-arm64']);
});

test('a plain manifest annotation goes on every platform\'s manifest; other kinds are refused for now', async () => {
  const tar = join(work, 'annotated.tar');
  const r = await build(split, '--annotation', 'org.example.k=v', '-o', `type=oci,dest=${tar}`);
  assert.equal(r.code, 0, r.stderr);
  const dir = join(work, 'annotated');
  await mkdir(dir);
  await exec('tar', ['-xf', tar, '-C', dir]);
  const blob = async (digest: string) => JSON.parse(await readFile(join(dir, 'blobs', 'sha256', digest.slice(7)), 'utf8'));
  const top = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
  const index = await blob(top.manifests[0].digest);
  assert.equal(index.manifests.length, 2);
  for (const d of index.manifests) assert.equal((await blob(d.digest)).annotations?.['org.example.k'], 'v', JSON.stringify(d.platform));
  for (const spec of ['manifest[linux/arm64]:k=v', 'index:k=v', 'manifest-descriptor:k=v']) {
    const bad = await build(split, '--annotation', spec, '-o', `type=oci,dest=${join(work, 'refused.tar')}`);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /is not supported yet for a multi-platform build/, spec);
  }
});
