import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { importRootfs, openStore } from '../../store/index.js';
import { tempDir } from '../helpers/temp.js';
import { makeTar } from './tar-fixture.js';

async function storeWithImage() {
  const store = await openStore(await tempDir());
  const img = await importRootfs(store, Readable.from([await makeTar([{ name: 'f', content: 'content' }])]), { names: ['x:1'] });
  return { store, img };
}

test('fsck of a healthy store finds nothing', async () => {
  const { store } = await storeWithImage();
  const r = await store.fsck();
  assert.deepEqual(r.problems, []);
  assert.equal(r.images, 1);
  assert.equal(r.blobsChecked, 3);
});

test('fsck reports a corrupt layer blob', async () => {
  const { store, img } = await storeWithImage();
  const path = store.blobPath(img.manifest.layers[0].digest);
  const bytes = await readFile(path);
  bytes[bytes.indexOf('content')] = 'C'.charCodeAt(0);
  await writeFile(path, bytes);
  const r = await store.fsck();
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0], /docker\.io\/library\/x:1: blob sha256:[0-9a-f]{64} is corrupt/);
});

test('fsck reports a missing config and a stray partial file in blobs/', async () => {
  const { store, img } = await storeWithImage();
  await rm(store.blobPath(img.id));
  await writeFile(join(store.root, 'oci', 'blobs', 'sha256', 'partial-write'), 'half');
  const r = await store.fsck();
  assert.ok(r.problems.some((p) => p.includes(`blob ${img.id} is missing`)));
  assert.ok(r.problems.some((p) => p.includes('partial-write')));
});
