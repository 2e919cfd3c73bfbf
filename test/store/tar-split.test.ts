import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Digest } from '../../common/index.js';
import { extractTar, importRootfs, openStore, settleSplitLayers, MediaType, type Store } from '../../store/index.js';
import { tempDir } from '../helpers/temp.js';
import { makeTar, sha256, type FixtureEntry } from './tar-fixture.js';

// Issue 22 item 4: a layer is kept once on disk. Once its dir is extracted, its tar blob is
// replaced by a tar-split (headers, PAX records and padding as they were, bodies by path),
// from which the same tar is made again: the digest stays the diff_id. The tar goes only
// after a flush of the filesystem made the dir durable (store/layer-settle.ts).

/** Flush and drop the tars of extracted layers, as prune does. */
const settle = (store: Store) => settleSplitLayers(store.root);

const isRoot = process.getuid?.() === 0;

async function bytesOf(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function storeLayer(tar: Buffer): Promise<{ store: Store; diffId: Digest; desc: { mediaType: string; digest: Digest; size: number } }> {
  const store = await openStore(await tempDir());
  const blob = await store.putBlob(tar);
  return { store, diffId: blob.digest, desc: { mediaType: MediaType.layerTar, digest: blob.digest, size: blob.size } };
}

const LONG = `deep/${'d'.repeat(90)}/${'n'.repeat(120)}.txt`;

/** One layer with every kind of entry a layer can hold. */
function everyKind(): FixtureEntry[] {
  const entries: FixtureEntry[] = [
    { name: 'etc/', type: 'directory', mode: 0o750, uid: 7, gid: 8 },
    { name: 'etc/conf', content: 'abc', mode: 0o640, uid: 1000, gid: 1001 },
    { name: 'etc/empty', content: '' },
    { name: 'etc/link', type: 'symlink', linkname: 'conf' },
    { name: 'etc/hard', type: 'link', linkname: 'etc/conf' },
    { name: 'bin/', type: 'directory' },
    { name: 'bin/ping', content: Buffer.alloc(3000, 7), mode: 0o4755, pax: { 'SCHILY.xattr.user.note': 'hello' } },
    { name: 'deep/', type: 'directory' },
    { name: `deep/${'d'.repeat(90)}/`, type: 'directory' },
    { name: LONG, content: 'long name, in a PAX record' },
    { name: 'opq/', type: 'directory' },
    { name: 'opq/.wh..wh..opq', content: '' },
    { name: 'opq/kept', content: 'k' },
    { name: '.wh.gone', content: '' },
    { name: 'fifo', type: 'fifo' },
    { name: 'big', content: Buffer.alloc(3 << 20, 1) },
  ];
  if (isRoot) {
    entries.push(
      { name: 'dev/', type: 'directory' },
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'dev/loop0', type: 'block-device', devmajor: 7, devminor: 0, mode: 0o660, gid: 6 },
    );
  }
  return entries;
}

test('an extracted layer keeps no tar: the tar made again from its dir and split has its diff_id, byte for byte', async () => {
  const tar = await makeTar(everyKind());
  const { store, diffId, desc } = await storeLayer(tar);
  const dir = await store.layerDir(diffId, desc);
  assert.equal(await settle(store), 1);
  assert.ok(!existsSync(store.blobPath(diffId)), 'the tar blob is gone once the dir is there and durable');
  assert.ok(existsSync(join(store.root, 'tar-split', diffId.slice(7))));
  assert.equal(await store.hasBlob(diffId), true);
  assert.equal(await store.blobSize(diffId), tar.length);
  const again = await bytesOf(store.openBlob(diffId));
  assert.equal(sha256(again), diffId);
  assert.ok(again.equals(tar));
  assert.equal(await readFile(join(dir, LONG), 'utf8'), 'long name, in a PAX record');
  // the layer reads as before: content size, a second layerDir call
  assert.equal(await store.layerContentSize(desc), 3 + 3000 + 26 + 1 + (3 << 20));
  assert.equal(await store.layerDir(diffId, desc), dir);
});

test('a security.capability xattr, as GNU tar writes it, survives the round trip', async (t) => {
  if (!isRoot) return t.skip('security.* xattrs need root');
  const work = await tempDir();
  const src = join(work, 'src');
  await mkdir(src);
  await writeFile(join(src, 'ping'), 'elf');
  execFileSync('setcap', ['cap_net_raw+ep', join(src, 'ping')]);
  const tar = execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--format=pax', '-cf', '-', '-C', src, 'ping']);
  const { store, diffId, desc } = await storeLayer(tar);
  const dir = await store.layerDir(diffId, desc);
  assert.match(execFileSync('getcap', [join(dir, 'ping')], { encoding: 'utf8' }), /cap_net_raw/);
  await settle(store);
  assert.ok(!existsSync(store.blobPath(diffId)));
  assert.ok((await bytesOf(store.openBlob(diffId))).equals(tar));
});

test('a tar that writes one path twice keeps its blob: its dir no longer holds the first body', async () => {
  const tar = await makeTar([
    { name: 'f', content: 'first' },
    { name: 'f', content: 'second' },
  ]);
  const { store, diffId, desc } = await storeLayer(tar);
  const dir = await store.layerDir(diffId, desc);
  assert.equal(await readFile(join(dir, 'f'), 'utf8'), 'second');
  await settle(store);
  assert.ok(existsSync(store.blobPath(diffId)), 'the blob stays');
  assert.ok((await bytesOf(store.openBlob(diffId))).equals(tar));
});

test('a store that kept both copies (the old layout) keeps working, and a removed dir is extracted again', async () => {
  const tar = await makeTar(everyKind());
  const { store, diffId, desc } = await storeLayer(tar);
  const dir = await store.layerDir(diffId, desc);
  // the old layout: the blob and the dir, no split
  await rm(join(store.root, 'tar-split', diffId.slice(7)));
  await store.putBlob(tar);
  assert.ok((await bytesOf(store.openBlob(diffId))).equals(tar));
  assert.equal(await store.layerDir(diffId, desc), dir);
  // the dir removed: read from the tar, extracted again, the tar dropped again
  await rm(dir, { recursive: true });
  const again = await store.layerDir(diffId, desc);
  assert.equal(await readFile(join(again, 'etc', 'conf'), 'utf8'), 'abc');
  await settle(store);
  assert.ok(!existsSync(store.blobPath(diffId)));
  assert.ok((await bytesOf(store.openBlob(diffId))).equals(tar));
});

test('a dir given to the store (a RUN upper) replaces its tar only when it makes the same tar again', async () => {
  const tar = await makeTar(everyKind());
  const { store, diffId } = await storeLayer(tar);
  const work = await store.makeTempDir('test-');
  await mkdir(join(work, 'root'));
  await extractTar(Readable.from([tar]), join(work, 'root'), { what: 'test' });
  assert.equal(await store.adoptLayerDir(diffId, join(work, 'root')), true);
  await settle(store);
  assert.ok(!existsSync(store.blobPath(diffId)));
  assert.ok((await bytesOf(store.openBlob(diffId))).equals(tar));

  // a dir that differs from its tar: the blob stays
  const other = await makeTar([{ name: 'a', content: 'tar' }]);
  const o = await store.putBlob(other);
  await mkdir(join(work, 'other'));
  await writeFile(join(work, 'other', 'a'), 'dir');
  assert.equal(await store.adoptLayerDir(o.digest, join(work, 'other')), true);
  await settle(store);
  assert.ok(existsSync(store.blobPath(o.digest)));
  assert.ok((await bytesOf(store.openBlob(o.digest))).equals(other));
});

test('fsck makes each split layer tar again: a changed or truncated file in its dir is reported', async () => {
  const store = await openStore(await tempDir());
  const tar = await makeTar([{ name: 'f', content: 'content' }, { name: 'g', content: 'more' }]);
  const img = await importRootfs(store, Readable.from([tar]), { names: ['x:1'] });
  const l = img.manifest.layers[0];
  const dir = await store.layerDir(img.config.rootfs.diff_ids[0], l);
  await settle(store);
  assert.ok(!existsSync(store.blobPath(l.digest)));
  assert.deepEqual((await store.fsck()).problems, []);
  await writeFile(join(dir, 'f'), 'CONTENT');
  let r = await store.fsck();
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0], /x:1: layer sha256:[0-9a-f]{64} \(dir layers\/[0-9a-f]{64} and its tar-split\) is corrupt/);
  await truncate(join(dir, 'g'), 1);
  r = await store.fsck();
  assert.match(r.problems.join('\n'), /g is 1 bytes, its tar says 4/);
});

test('prune removes a split layer with its dir, and a stray split', async () => {
  const store = await openStore(await tempDir());
  const tar = await makeTar([{ name: 'f', content: 'content' }]);
  const blob = await store.putBlob(tar);
  await store.layerDir(blob.digest, { mediaType: MediaType.layerTar, digest: blob.digest, size: blob.size });
  await writeFile(join(store.root, 'tar-split', 'ab'.repeat(32)), 'stray');
  await store.prune();
  assert.deepEqual(await readdir(join(store.root, 'tar-split')), []);
  assert.deepEqual(await readdir(join(store.root, 'layers')), []);
  assert.equal(await store.hasBlob(blob.digest), false);
});

test('the tar stays until a flush of the filesystem made the extracted dir durable', async () => {
  const tar = await makeTar(everyKind());
  const { store, diffId, desc } = await storeLayer(tar);
  await store.layerDir(diffId, desc);
  assert.ok(existsSync(store.blobPath(diffId)), 'extracted, not yet flushed: the tar is the durable copy');
  // a layer younger than the kernel's writeback expiry is left for a later pass (the open's)
  let flushes = 0;
  assert.equal(await settleSplitLayers(store.root, { minAgeMs: 3_600_000, sync: async () => void flushes++ }), 0);
  assert.equal(flushes, 0);
  // a failed flush drops nothing
  await assert.rejects(settleSplitLayers(store.root, { sync: () => Promise.reject(new Error('EIO')) }), /EIO/);
  assert.ok(existsSync(store.blobPath(diffId)));
  // one flush, and the tar is still there while it runs
  const seen: boolean[] = [];
  const sync = async (root: string) => {
    assert.equal(root, store.root);
    seen.push(existsSync(store.blobPath(diffId)));
  };
  assert.equal(await settleSplitLayers(store.root, { sync }), 1);
  assert.deepEqual(seen, [true]);
  assert.ok(!existsSync(store.blobPath(diffId)));
  assert.ok((await bytesOf(store.openBlob(diffId))).equals(tar));
  // nothing pending: no flush at all
  assert.equal(await settleSplitLayers(store.root, { sync }), 0);
  assert.equal(seen.length, 1);
});

test('an abandoned extraction of an own layer publishes nothing and leaves no temp dir; the tar stays', async () => {
  // 8 MiB: unpacked in a worker thread (store/extract-thread.ts), which the abort terminates
  const entries: FixtureEntry[] = Array.from({ length: 64 }, (_, i) => ({ name: `f${i}`, content: Buffer.alloc(128 << 10, i) }));
  const tar = await makeTar(entries);
  const { store, diffId, desc } = await storeLayer(tar);
  const stop = new AbortController();
  const p = store.extractOwnLayer(diffId, stop.signal);
  // abort once the worker has written its first file
  const started = async () => {
    for (const n of await readdir(join(store.root, 'tmp'))) if (existsSync(join(store.root, 'tmp', n, 'root', 'f0'))) return true;
    return false;
  };
  while (!(await started())) await new Promise((r) => setTimeout(r, 1));
  stop.abort();
  await assert.rejects(p);
  assert.ok(!existsSync(join(store.root, 'layers', diffId.slice(7))), 'no dir published');
  assert.deepEqual(await readdir(join(store.root, 'tmp')), []);
  assert.ok(existsSync(store.blobPath(diffId)));
  // an abort before the start does nothing at all
  await assert.rejects(store.extractOwnLayer(diffId, AbortSignal.abort()));
  // the layer is extracted when it is needed
  const dir = await store.layerDir(diffId, desc);
  assert.equal((await readFile(join(dir, 'f63'))).length, 128 << 10);
});
