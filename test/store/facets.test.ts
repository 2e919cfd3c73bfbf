import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError, digestOf, hexOf } from '../../common/index.js';
import { openStore, MediaType, type CacheRecord, type ImageConfig, type Store } from '../../store/index.js';
import { tempDir } from '../helpers/temp.js';
import { makeTar } from './tar-fixture.js';

// What the other folders keep in the store, through the Store interface alone.

async function layer(store: Store, files: { name: string; content: string }[]) {
  const blob = await store.putBlob(await makeTar(files));
  return { mediaType: MediaType.layerTar, digest: blob.digest, size: blob.size };
}

test('records: a kind keeps its JSON at <root>/<kind>/<key>.json in owner-only folders; absent or damaged reads as undefined', async () => {
  const store = await openStore(await tempDir());
  const key = hexOf(digestOf('layer'));
  assert.equal(await store.records.read('registry/compressed', key), undefined);
  await store.records.write('registry/compressed', key, { digest: 'x', knownIn: ['a'] });
  await store.records.write('registry/compressed', key, { digest: 'y', knownIn: [] });
  assert.deepEqual(await store.records.read('registry/compressed', key), { digest: 'y', knownIn: [] });
  const path = join(store.root, 'registry', 'compressed', `${key}.json`);
  assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), { digest: 'y', knownIn: [] });
  assert.equal((await stat(join(store.root, 'registry'))).mode & 0o777, 0o700);
  assert.equal((await stat(join(store.root, 'registry', 'compressed'))).mode & 0o777, 0o700);
  assert.deepEqual(await readdir(join(store.root, 'registry', 'compressed')), [`${key}.json`], 'no temp file left');
  await writeFile(path, '{"digest": "trunc');
  assert.equal(await store.records.read('registry/compressed', key), undefined);
});

test('records: a kind or key that leaves its folder, or names a folder the store owns, is refused before any write', async () => {
  const root = await tempDir();
  const store = await openStore(root);
  const before = (await readdir(root)).sort();
  const refused = (e: unknown) => e instanceof Error && /^\[internal\] store records: bad (kind|key)/.test(e.message);
  for (const kind of ['../escape', '/abs', 'oci', 'cache/memo', 'layers/x', 'Registry', 'a//b', '']) {
    await assert.rejects(store.records.write(kind, 'k', 1), refused, kind);
    await assert.rejects(store.records.read(kind, 'k'), refused, kind);
  }
  for (const key of ['../k', '.hidden', 'a/b', '']) {
    await assert.rejects(store.records.write('registry/x', key, 1), refused, key);
  }
  assert.deepEqual((await readdir(root)).sort(), before);
});

test('commitImage keeps a config blob as its bytes came: the id is their digest, not that of our serialisation', async () => {
  const store = await openStore(await tempDir());
  const l = await layer(store, [{ name: 'f', content: 'abc' }]);
  const config: ImageConfig = { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [l.digest] } };
  const pulled = Buffer.from(JSON.stringify(config, null, 2)); // a registry's own formatting
  const blob = await store.putBlob(pulled);
  const img = await store.commitImage({ configDigest: blob.digest, configSize: blob.size, config, layers: [l], names: ['pulled:1'] });
  assert.equal(img.id, digestOf(pulled));
  assert.deepEqual(await store.readBlob(img.id), pulled);
  assert.equal((await store.resolveImage('pulled:1'))?.id, img.id);
  const rewritten = await store.writeImage({ config, layers: [l], names: ['rewritten:1'] });
  assert.notEqual(rewritten.id, img.id, 'writeImage would have changed the id');
});

test('layerContentSize: the regular-file bytes of a layer blob, the same when asked again', async () => {
  const store = await openStore(await tempDir());
  const l = await layer(store, [
    { name: 'a', content: 'abc' },
    { name: 'b', content: 'defg' },
  ]);
  assert.equal(await store.layerContentSize(l), 7);
  assert.equal(await store.layerContentSize(l), 7);
});

test('cache records travel through a local folder: export then import into another store, layer verified on the way in', async () => {
  const a = await openStore(await tempDir());
  const l = await layer(a, [{ name: 'f', content: 'cached' }]);
  const rec: CacheRecord = { key: digestOf('step'), layer: l, history: { created_by: 'RUN x' }, keyParts: { parent: '', op: 'exec' } };
  await a.cacheRecords.put(rec);
  const dir = await tempDir();
  assert.deepEqual(await a.cacheRecords.exportLocal(dir, [rec.key, digestOf('unknown')]), { records: 1 });

  const b = await openStore(await tempDir());
  assert.deepEqual(await b.cacheRecords.importLocal(dir), { records: 1 });
  assert.deepEqual(await b.cacheRecords.get(rec.key), rec);
  assert.ok(await b.hasBlob(l.digest));

  await writeFile(join(dir, 'blobs', 'sha256', hexOf(l.digest)), 'tampered');
  const c = await openStore(await tempDir());
  await assert.rejects(c.cacheRecords.importLocal(dir), (e: unknown) => e instanceof UserError && e.code === 'cache-from-corrupt');
  assert.equal(await c.cacheRecords.get(rec.key), undefined, 'no record points at a layer that did not arrive');
  assert.equal(await c.hasBlob(l.digest), false);
});

test('the last build of a name: an unchanged rebuild writes nothing, a changed key or a lost file writes it again', async () => {
  const store = await openStore(await tempDir());
  const step = (key: string, display = 'LABEL a=b') => ({ position: '0:1', display, key: digestOf(key), keyParts: { parent: 'p', op: 'config', key }, explain: { files: { a: key } } });
  const path = join(store.root, 'cache', 'builds', `${hexOf(digestOf('app'))}.json`);
  await store.cacheRecords.recordBuild('app', { steps: [step('one')] });
  const first = await stat(path);
  await store.cacheRecords.recordBuild('app', { steps: [step('one')] });
  assert.equal((await stat(path)).ino, first.ino, 'not written again');
  await store.cacheRecords.recordBuild('app', { steps: [step('two')] });
  assert.deepEqual(await store.cacheRecords.lastBuild('app'), { steps: [step('two')] });
  await store.cacheRecords.recordBuild('app', { steps: [step('two', 'LABEL a=c')] });
  assert.equal((await store.cacheRecords.lastBuild('app'))?.steps[0].display, 'LABEL a=c', 'the display is in the sum');
  // The file gone (its sum left): written again; steps without keys: compared by text.
  await rm(path);
  await store.cacheRecords.recordBuild('app', { steps: [step('two', 'LABEL a=c')] });
  assert.equal((await store.cacheRecords.lastBuild('app'))?.steps[0].display, 'LABEL a=c');
  const keyless = { steps: [{ position: '0:1', display: 'X', keyParts: { parent: 'p', op: 'x' } }] };
  await store.cacheRecords.recordBuild('app', keyless);
  assert.deepEqual(await store.cacheRecords.lastBuild('app'), keyless);
  // The keyed build before it again: its old sum must not stand for the keyless text.
  await store.cacheRecords.recordBuild('app', { steps: [step('two', 'LABEL a=c')] });
  assert.equal((await store.cacheRecords.lastBuild('app'))?.steps[0].display, 'LABEL a=c');
});
