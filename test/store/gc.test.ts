import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type Digest } from '../../common/index.js';
import { importRootfs, openStore, type Store } from '../../store/index.js';
import { tempDir } from '../helpers/temp.js';
import { makeTar } from './tar-fixture.js';

async function image(store: Store, content: string, names: string[]) {
  const img = await importRootfs(store, Readable.from([await makeTar([{ name: 'f', content }])]), { names });
  await store.layerDir(img.config.rootfs.diff_ids[0], img.manifest.layers[0]);
  return img;
}

test('prune keeps every named image whole and removes what nothing references', async () => {
  const store = await openStore(await tempDir());
  const kept = await image(store, 'kept', ['kept:1']);
  const dropped = await image(store, 'dropped', ['dropped:1']);
  const junk = await store.putBlob('an orphan blob');
  await store.untag('dropped:1');
  const r = await store.prune();
  assert.equal(r.layersRemoved, 1);
  // config, manifest, orphan: the layer's tar went with its dir (store/tar-split.ts)
  assert.ok(r.blobsRemoved >= 3, `removed ${r.blobsRemoved}`);
  assert.equal(await store.hasBlob(junk.digest), false);
  assert.equal(await store.hasBlob(dropped.id), false);
  const layers = await readdir(join(store.root, 'layers'));
  assert.deepEqual(layers, [kept.config.rootfs.diff_ids[0].slice(7)]);
  assert.deepEqual((await store.fsck()).problems, []);
  assert.equal((await store.resolveImage('kept:1'))?.id, kept.id);
});

test('prune keeps <none> images (they are still listed) and cache-record layers; --all drops the records', async () => {
  const store = await openStore(await tempDir());
  const unnamed = await image(store, 'unnamed', []);
  const cached = await store.putBlob(await makeTar([{ name: 'c', content: 'cached layer' }]));
  const records = store.cacheRecords;
  await records.put({ key: cached.digest, layer: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: cached.digest, size: cached.size }, history: {}, keyParts: {} });
  await store.prune();
  assert.ok(await store.hasBlob(unnamed.id));
  assert.ok(await store.hasBlob(cached.digest), 'a cache record is a root');
  const r = await store.prune({ all: true });
  assert.equal(r.cacheRecordsRemoved, 1);
  assert.equal(await store.hasBlob(cached.digest), false);
});

test('a live build lease protects what it names and everything written since it began; a dead one protects nothing', async () => {
  const store = await openStore(await tempDir());
  const old = await store.putBlob('old, protected by name');
  const oldUnprotected = await store.putBlob('old, not protected');
  const sleeper = spawn('sleep', ['30']);
  try {
    await mkdir(join(store.root, 'leases'), { recursive: true });
    await writeFile(
      join(store.root, 'leases', `${sleeper.pid}-test.json`),
      JSON.stringify({ pid: sleeper.pid, createdMs: Date.now() + 5000, digests: [old.digest] }),
    );
    await new Promise((r) => setTimeout(r, 20));
    // "written since the lease": simulate with a lease created before this blob
    await writeFile(join(store.root, 'leases', `${sleeper.pid}-early.json`), JSON.stringify({ pid: sleeper.pid, createdMs: Date.now() + 4000, digests: [] }));
    await store.prune();
    assert.ok(await store.hasBlob(old.digest), 'protected by the lease');
    assert.equal(await store.hasBlob(oldUnprotected.digest), false, 'older than every lease and unprotected');
    const fresh = await store.putBlob('written during the build');
    await writeFile(join(store.root, 'leases', `${sleeper.pid}-early.json`), JSON.stringify({ pid: sleeper.pid, createdMs: Date.now() - 1000, digests: [] }));
    await store.prune();
    assert.ok(await store.hasBlob(fresh.digest), 'written after the lease began');
  } finally {
    sleeper.kill('SIGKILL');
    await new Promise((r) => sleeper.once('exit', r));
  }
  await store.prune();
  assert.equal(await store.hasBlob(old.digest), false, 'the lease of a dead process is void');
  const left = await readdir(join(store.root, 'leases'));
  assert.ok(!left.some((n) => n.startsWith(`${sleeper.pid}-`)), 'dead leases are removed');
});

test('store.acquireLease: protect() keeps a blob until release()', async () => {
  const store = await openStore(await tempDir());
  const blob = await store.putBlob('leased');
  const lease = await store.acquireLease();
  await lease.protect(blob.digest as Digest);
  const files = await readdir(join(store.root, 'leases'));
  assert.ok(files.length >= 1);
  await lease.release();
  assert.ok((await readdir(join(store.root, 'leases'))).length < files.length + 1);
});

test('prune in one process keeps what a running build in another process writes; after its SIGKILL the leftovers go', async () => {
  const store = await openStore(await tempDir());
  const storeModule = new URL('../../store/index.js', import.meta.url).href;
  const script = `const { openStore } = await import(${JSON.stringify(storeModule)});
const s = await openStore(${JSON.stringify(store.root)});
const b = await s.putBlob('layer of a build in progress');
process.stdout.write(b.digest + '\\n');
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const digest = await new Promise<Digest>((resolve) => child.stdout.once('data', (b: Buffer) => resolve(b.toString().trim() as Digest)));
  try {
    await store.prune();
    assert.ok(await store.hasBlob(digest), 'the build process lease keeps its fresh blob');
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
  await store.prune();
  assert.equal(await store.hasBlob(digest), false, 'the dead build pins nothing');
});

test('prune --keep-storage drops the oldest cache records until what stays fits', async () => {
  const store = await openStore(await tempDir());
  const records = store.cacheRecords;
  const layers = [];
  for (const n of ['old', 'new']) {
    const blob = await store.putBlob(await makeTar([{ name: n, content: Buffer.alloc(4000, 1) }]));
    await records.put({ key: blob.digest, layer: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: blob.digest, size: blob.size }, history: {}, keyParts: {} });
    layers.push(blob);
    await new Promise((r) => setTimeout(r, 20)); // distinct record mtimes
  }
  const generous = await store.prune({ keepStorageBytes: 1_000_000 });
  assert.equal(generous.cacheRecordsRemoved, 0);
  const tight = await store.prune({ keepStorageBytes: layers[1].size + 100 });
  assert.equal(tight.cacheRecordsRemoved, 1);
  assert.equal(await store.hasBlob(layers[0].digest), false, 'the oldest record went first');
  assert.ok(await store.hasBlob(layers[1].digest));
});
