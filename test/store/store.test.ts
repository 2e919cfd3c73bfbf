import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { UserError, digestOf } from '../../common/index.js';
import { openStore, MediaType, type ImageConfig, type Store } from '../../store/index.js';
import { withLock } from '../../store/lock.js';
import { tempDir } from '../helpers/temp.js';
import { makeTar } from './tar-fixture.js';

const exec = promisify(execFile);

/** A pid that existed and is now dead. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

async function oneLayerImage(store: Store, content: string, names: string[], created = '2024-01-01T00:00:00Z') {
  const tar = await makeTar([{ name: 'f', content }]);
  const blob = await store.putBlob(tar);
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    created,
    config: { Cmd: ['/f'] },
    rootfs: { type: 'layers', diff_ids: [blob.digest] },
    history: [{ created, created_by: 'test' }],
  };
  return store.writeImage({ config, layers: [{ mediaType: MediaType.layerTar, digest: blob.digest, size: blob.size }], names });
}

test('blobs: put, read, stream-write with an expected digest; a mismatch stores nothing', async () => {
  const store = await openStore(await tempDir());
  const { digest, size } = await store.putBlob('hello');
  assert.equal(digest, digestOf('hello'));
  assert.equal(size, 5);
  assert.equal((await store.readBlob(digest))?.toString(), 'hello');
  assert.equal(await store.readBlob(digestOf('nope')), undefined);
  const w = store.blobWriter({ expected: digestOf('streamed') });
  w.stream.write('stream');
  w.stream.end('ed');
  assert.deepEqual(await w.commit(), { digest: digestOf('streamed'), size: 8 });
  const bad = store.blobWriter({ expected: digestOf('other') });
  bad.stream.end('tampered');
  await assert.rejects(bad.commit(), (e: unknown) => e instanceof UserError && e.code === 'digest-mismatch');
  assert.equal(await store.hasBlob(digestOf('tampered')), false);
  assert.deepEqual(await readdir(join(store.root, 'tmp')), []);
});

// A blob past 4 MiB is hashed and written in the store's worker thread (store/blobs.ts,
// worker-thread.ts): the same digest and bytes whatever the chunks, a mismatch stores
// nothing, and an abort in the middle leaves no temp file and no open descriptor.
test('blobs: a big streamed blob, hashed and written in the worker thread, has its digest and bytes; abort and mismatch leave nothing', async () => {
  const store = await openStore(await tempDir());
  const big = Buffer.alloc(9 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) >>> 8;
  const want = digestOf(big);
  for (const chunk of [1000, 64 << 10, 3 << 20]) {
    const w = store.blobWriter();
    for (let at = 0; at < big.length; at += chunk) if (!w.stream.write(big.subarray(at, at + chunk))) await new Promise((r) => w.stream.once('drain', r));
    w.stream.end();
    assert.deepEqual(await w.commit(), { digest: want, size: big.length }, `in chunks of ${chunk}`);
  }
  assert.ok((await store.readBlob(want))?.equals(big), 'the bytes as written');

  // Descriptors open on the store's files (a worker's own loop descriptors come and go).
  const storeFds = async () => {
    const links = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
    return links.filter((l) => l.startsWith(store.root + '/'));
  };
  const bad = store.blobWriter({ expected: digestOf('other') });
  bad.stream.end(big);
  await assert.rejects(bad.commit(), (e: unknown) => e instanceof UserError && e.code === 'digest-mismatch');
  const halfway = store.blobWriter();
  halfway.stream.write(big.subarray(0, 6 << 20));
  await new Promise((r) => setTimeout(r, 50));
  await halfway.abort();
  assert.deepEqual(await readdir(join(store.root, 'tmp')), []);
  assert.deepEqual(await storeFds(), [], 'no descriptor left open');
});

test('images: image id is the config digest; names are normalised; size is the sum of regular-file bytes', async () => {
  const store = await openStore(await tempDir());
  const img = await oneLayerImage(store, '12345', ['saluda']);
  assert.equal(img.id, img.manifest.config.digest);
  assert.deepEqual(img.names, ['docker.io/library/saluda:latest']);
  assert.equal(img.sizeBytes, 5);
  const byName = await store.resolveImage('saluda:latest');
  assert.equal(byName?.id, img.id);
  assert.equal((await store.resolveImage(img.id))?.id, img.id);
  assert.equal((await store.resolveImage(img.id.slice(7)))?.id, img.id);
  assert.equal((await store.resolveImage(img.id.slice(7, 11)))?.id, img.id, '4-hex prefix');
  assert.equal((await store.resolveImage(`saluda@${img.manifestDigest}`))?.id, img.id);
  assert.equal(await store.resolveImage('missing'), undefined);
  const index = JSON.parse(await readFile(join(store.root, 'oci', 'index.json'), 'utf8'));
  assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'docker.io/library/saluda:latest');
});

test('images: a 4-hex id prefix shared by two images is ambiguous; unnamed images stay listed', async () => {
  const store = await openStore(await tempDir());
  const tar = await makeTar([{ name: 'f', content: 'x' }]);
  const blob = await store.putBlob(tar);
  const configOf = (n: number): ImageConfig => ({
    architecture: 'amd64',
    os: 'linux',
    config: { Labels: { n: String(n) } },
    rootfs: { type: 'layers', diff_ids: [blob.digest] },
  });
  // find two configs whose digests share 4 hex digits (the birthday bound: a few hundred tries)
  const seen = new Map<string, number>();
  let pair: [number, number] | undefined;
  for (let n = 0; !pair; n++) {
    const p = digestOf(JSON.stringify(configOf(n))).slice(7, 11);
    if (seen.has(p)) pair = [seen.get(p)!, n];
    else seen.set(p, n);
  }
  const layers = [{ mediaType: MediaType.layerTar, digest: blob.digest, size: blob.size }];
  const a = await store.writeImage({ config: configOf(pair[0]), layers });
  const b = await store.writeImage({ config: configOf(pair[1]), layers });
  const prefix = a.id.slice(7, 11);
  assert.equal(b.id.slice(7, 11), prefix);
  await assert.rejects(store.resolveImage(prefix), (e: unknown) => e instanceof UserError && e.code === 'ambiguous-id');
  assert.equal((await store.resolveImage(a.id.slice(7, 20)))?.id, a.id, 'a longer prefix is unique');
  assert.equal((await store.listImages()).length, 2, 'unnamed images stay listed');
});

test('images: tagging moves a name; the image that lost its last name stays as <none>', async () => {
  const store = await openStore(await tempDir());
  const a = await oneLayerImage(store, 'a', ['app:1']);
  const b = await oneLayerImage(store, 'b', ['app:1']);
  const list = await store.listImages();
  assert.deepEqual(list.find((i) => i.id === b.id)?.names, ['docker.io/library/app:1']);
  assert.deepEqual(list.find((i) => i.id === a.id)?.names, [], 'a is now <none> but still listed');
  await store.tag(a.id, 'other/app:2');
  assert.deepEqual((await store.resolveImage('other/app:2'))?.id, a.id);
  assert.equal(await store.untag('app:1'), b.id);
  assert.equal(await store.resolveImage('app:1'), undefined);
  await store.removeImage(a.id);
  assert.equal(await store.resolveImage(a.id), undefined);
});

test('skopeo reads the store: inspect oci:<root>/oci:<full name> and copy to oci-archive', async () => {
  const store = await openStore(await tempDir());
  const img = await oneLayerImage(store, 'skopeo', ['saluda:v1']);
  const { stdout } = await exec('skopeo', ['inspect', `oci:${store.root}/oci:docker.io/library/saluda:v1`]);
  const info = JSON.parse(stdout) as { Digest: string; Layers: string[]; Architecture: string };
  assert.equal(info.Digest, img.manifestDigest);
  assert.deepEqual(info.Layers, img.config.rootfs.diff_ids);
  const out = join(await tempDir(), 'copy.tar');
  await exec('skopeo', ['copy', `oci:${store.root}/oci:docker.io/library/saluda:v1`, `oci-archive:${out}:saluda:v1`]);
  const back = JSON.parse((await exec('skopeo', ['inspect', '--config', `oci-archive:${out}:saluda:v1`])).stdout) as { rootfs: { diff_ids: string[] } };
  assert.deepEqual(back.rootfs.diff_ids, img.config.rootfs.diff_ids);
});

test('lock: a lock left by a dead process is stolen; a live holder is waited for', async () => {
  const root = await tempDir();
  await mkdir(join(root, 'locks', 'index'), { recursive: true });
  await writeFile(join(root, 'locks', 'index', 'owner'), `${deadPid()} deadbeef\n`);
  assert.equal(await withLock(root, 'index', async () => 'got it'), 'got it');
  const order: string[] = [];
  let release!: () => void;
  let acquired!: () => void;
  const isHeld = new Promise<void>((r) => (acquired = r));
  const held = withLock(root, 'x', () => {
    acquired();
    return new Promise<void>((r) => (release = () => (order.push('first done'), r())));
  });
  await isHeld;
  const waiting = withLock(root, 'x', async () => void order.push('second'));
  await new Promise((r) => setTimeout(r, 50));
  release();
  await Promise.all([held, waiting]);
  assert.deepEqual(order, ['first done', 'second']);
});

test('open: temp leftovers of dead processes are removed, a live process keeps its own', async () => {
  const root = await tempDir();
  await openStore(root);
  const dead = deadPid();
  await mkdir(join(root, 'tmp', `${dead}-abc-layer`, 'root'), { recursive: true });
  await writeFile(join(root, 'oci', `.tsbuild-tmp-${dead}-abc-index.json`), '{"partial');
  await mkdir(join(root, 'tmp', `${process.pid}-live-layer`));
  await openStore(root);
  assert.deepEqual(await readdir(join(root, 'tmp')), [`${process.pid}-live-layer`]);
  assert.ok(!(await readdir(join(root, 'oci'))).some((n) => n.startsWith('.tsbuild-tmp-')));
});

test('concurrent writers: 6 images written at once all end up named in index.json', async () => {
  const root = await tempDir();
  const store = await openStore(root);
  await Promise.all(Array.from({ length: 6 }, (_, i) => oneLayerImage(store, `p${i}`, [`par:${i}`])));
  const names = (await store.listImages()).flatMap((i) => i.names).sort();
  assert.deepEqual(names, Array.from({ length: 6 }, (_, i) => `docker.io/library/par:${i}`));
});
