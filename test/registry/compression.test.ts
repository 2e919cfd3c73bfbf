import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../../cli/tsbuild.js';
import { MediaType, openStore } from '../../store/index.js';
import { pullImage } from '../../registry/index.js';
import { tempDir } from '../helpers/temp.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { seededBytes, writeTestImage } from './image-fixture.js';

const exec = promisify(execFile);

/**
 * Layer compression on push and `save --format oci` (store/chunked-compress.ts), checked by
 * tools we did not write: the registry, skopeo, umoci, zstd(1). Flags and attributes follow
 * BuildKit's util/compression/attrs.go (compression, compression-level, force-compression).
 */

let registry: RegistryServer;
let root: string;
const NAME = 'demo/comp';
before(async () => {
  registry = await startRegistry();
  root = await tempDir('tsbuild-compression-');
  const store = await openStore(root);
  // 3 MiB of noise and 2 MiB of text: several gzip chunks and a zstd chunk boundary.
  await writeTestImage(store, 'demo/comp:1', [
    { 'bin/noise': seededBytes(5, 3 << 20), 'etc/hello': 'hello\n' },
    { 'usr/share/text': 'lorem ipsum dolor sit amet '.repeat(80_000) },
  ]);
});
after(async () => {
  await registry?.stop();
});

const remote = (repo: string) => `${registry.host}/${repo}:1`;

async function manifestOf(ref: string): Promise<{ layers: { mediaType: string; digest: string }[] }> {
  const { stdout } = await exec('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
  return JSON.parse(stdout) as { layers: { mediaType: string; digest: string }[] };
}

async function push(repo: string, flags: string[]): Promise<{ stdout: string; digest: string }> {
  assert.equal((await runCli(['tag', `${NAME}:1`, remote(repo)], { root })).code, 0);
  const r = await runCli(['push', ...flags, remote(repo)], { root });
  assert.equal(r.code, 0, r.stderr);
  return { stdout: r.stdout, digest: /digest: (sha256:[0-9a-f]{64})/.exec(r.stdout)![1] };
}

test('push --cores 1 and --cores 4 give the same blobs; the second push compresses nothing', async () => {
  // Separate stores, so the second cannot reuse the first one's compressed blobs.
  const other = await tempDir('tsbuild-compression-b-');
  const store = await openStore(other);
  await writeTestImage(store, `${NAME}:1`, [
    { 'bin/noise': seededBytes(5, 3 << 20), 'etc/hello': 'hello\n' },
    { 'usr/share/text': 'lorem ipsum dolor sit amet '.repeat(80_000) },
  ]);
  const a = await push('cores/one', ['--cores', '1']);
  assert.equal((await runCli(['tag', `${NAME}:1`, remote('cores/four')], { root: other })).code, 0);
  const b = await runCli(['push', '--cores', '4', remote('cores/four')], { root: other });
  assert.equal(b.code, 0, b.stderr);
  assert.equal(/digest: (sha256:[0-9a-f]{64})/.exec(b.stdout)![1], a.digest, 'same manifest, so the same gzip bytes');
  for (const l of (await manifestOf(remote('cores/one'))).layers) assert.equal(l.mediaType, MediaType.layerGzip);

  // The compressed blobs stay in the store: a push to a third repository sends them as they are.
  const before = (await readdir(join(root, 'oci', 'blobs', 'sha256'))).sort();
  const c = await push('cores/again', ['--cores', '2']);
  assert.equal(c.digest, a.digest);
  assert.deepEqual((await readdir(join(root, 'oci', 'blobs', 'sha256'))).sort(), before, 'no new blob: nothing compressed again');
  assert.ok((await readdir(join(root, 'compressed'))).some((f) => f.endsWith('-gzip-6.json')));
});

test('a pushed gzip image: skopeo copies it, umoci unpacks it, and a pull gives the same image', async () => {
  await push('check/gzip', []);
  const work = await tempDir();
  await exec('skopeo', ['copy', '--src-tls-verify=false', `docker://${remote('check/gzip')}`, `oci:${work}/layout:1`]);
  await exec('umoci', ['unpack', '--image', `${work}/layout:1`, `${work}/bundle`]);
  assert.equal(await readFile(`${work}/bundle/rootfs/etc/hello`, 'utf8'), 'hello\n');
  assert.ok((await readFile(`${work}/bundle/rootfs/bin/noise`)).equals(seededBytes(5, 3 << 20)));
  const fresh = await openStore(await tempDir());
  const got = await pullImage(fresh, remote('check/gzip'));
  assert.equal(got.id, (await (await openStore(root)).resolveImage(`${NAME}:1`))!.id);
});

test('push --compression zstd: zstd layers the registry keeps, skopeo copies and a pull reads back', async () => {
  const { stdout } = await push('check/zstd', ['--compression', 'zstd', '--compression-level', '5']);
  assert.match(stdout, /: Pushed$/m);
  const m = await manifestOf(remote('check/zstd'));
  assert.deepEqual(m.layers.map((l) => l.mediaType), [MediaType.layerZstd, MediaType.layerZstd]);
  const work = await tempDir();
  await exec('skopeo', ['copy', '--src-tls-verify=false', `docker://${remote('check/zstd')}`, `oci:${work}/layout:1`]);
  const blob = join(work, 'layout', 'blobs', 'sha256', m.layers[0].digest.slice(7));
  const tar = (await exec('zstd', ['-dc', blob], { encoding: 'buffer', maxBuffer: 64 << 20 })).stdout;
  assert.ok(tar.includes(Buffer.from('etc/hello')));
  const fresh = await openStore(await tempDir());
  const got = await pullImage(fresh, remote('check/zstd'));
  assert.equal(got.id, (await (await openStore(root)).resolveImage(`${NAME}:1`))!.id);
  // The gzip blobs of the same layers are still known: a gzip push reuses them.
  const again = await push('check/gzip-again', []);
  assert.doesNotMatch(again.stdout, /Pushed$/m, 'mounted or already there, not compressed');
});

test('push --compression uncompressed sends the tars as stored', async () => {
  await push('check/tar', ['--compression', 'uncompressed']);
  const image = (await (await openStore(root)).resolveImage(`${NAME}:1`))!;
  const m = await manifestOf(remote('check/tar'));
  assert.deepEqual(m.layers.map((l) => [l.mediaType, l.digest]), image.config.rootfs.diff_ids.map((d) => [MediaType.layerTar, d]));
});

test('save --format oci --compression zstd: skopeo and zstd(1) read the archive; the same bytes twice', async () => {
  const work = await tempDir();
  for (const n of ['a', 'b']) {
    const r = await runCli(['save', '--format', 'oci', '--compression', 'zstd', '--cores', n === 'a' ? '1' : '2', '-o', join(work, `${n}.tar`), `${NAME}:1`], { root });
    assert.equal(r.code, 0, r.stderr);
  }
  assert.equal((await exec('sha256sum', [join(work, 'a.tar')])).stdout.split(' ')[0], (await exec('sha256sum', [join(work, 'b.tar')])).stdout.split(' ')[0]);
  const { stdout } = await exec('skopeo', ['inspect', '--raw', `oci-archive:${join(work, 'a.tar')}`]);
  const m = JSON.parse(stdout) as { layers: { mediaType: string; digest: string }[] };
  assert.deepEqual(m.layers.map((l) => l.mediaType), [MediaType.layerZstd, MediaType.layerZstd]);
  await mkdir(join(work, 'x'));
  await exec('tar', ['-xf', join(work, 'a.tar'), '-C', join(work, 'x')]);
  await exec('zstd', ['-t', join(work, 'x', 'blobs', 'sha256', m.layers[1].digest.slice(7))]);
});

test('bad compression flags are one error line each', async () => {
  const cases: [string[], RegExp][] = [
    [['push', '--compression', 'gzip', '--compression-level', '12', remote('x/y')], /invalid compression-level 12 for gzip: want 0 to 9/],
    [['push', '--compression', 'lz4', remote('x/y')], /unsupported compression type lz4/],
    [['push', '--compression', 'estargz', remote('x/y')], /estargz is not supported/],
    [['push', '--cores', '0', remote('x/y')], /invalid --cores "0"/],
    [['save', '--compression', 'zstd', '-o', '/dev/null', `${NAME}:1`], /--compression applies to --format oci/],
  ];
  for (const [argv, want] of cases) {
    const r = await runCli(argv, { root });
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('--output type=oci,compression=zstd and type=registry,compression=zstd write zstd layers', async () => {
  const { projectRoot } = await import('../../common/index.js');
  const work = await tempDir();
  const ctxDir = join(projectRoot, 'fixtures', 'scratch-hello');
  const oci = await runCli(['build', '-o', `type=oci,dest=${join(work, 'o.tar')},compression=zstd,compression-level=3`, ctxDir], { root });
  assert.equal(oci.code, 0, oci.stderr);
  const { stdout } = await exec('skopeo', ['inspect', '--raw', `oci-archive:${join(work, 'o.tar')}`]);
  assert.deepEqual((JSON.parse(stdout) as { layers: { mediaType: string }[] }).layers.map((l) => l.mediaType), [MediaType.layerZstd]);
  const reg = await runCli(['build', '-o', `type=registry,name=${remote('out/zstd')},compression=zstd,force-compression=true`, ctxDir], { root });
  assert.equal(reg.code, 0, reg.stderr);
  assert.deepEqual((await manifestOf(remote('out/zstd'))).layers.map((l) => l.mediaType), [MediaType.layerZstd]);
  const bad = await runCli(['build', '-o', `type=oci,dest=${join(work, 'p.tar')},compression-level=x`, ctxDir], { root });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /non-integer value x specified for compression-level/);
});
