import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Digest } from '../../common/index.js';
import { openStore, settleSplitLayers, MediaType, type Store } from '../../store/index.js';
import { tempDir } from '../helpers/temp.js';
import { makeTar, type FixtureEntry } from './tar-fixture.js';

// Issue 22 item 3: the layers a build had not yet extracted onto the store's disk when it
// ended are extracted by a detached process (store/extract-detached.ts), which holds the lock
// `layer-<hex>` while it works: a build needing the layer waits for it, takes over when it is
// dead, and a SIGKILL of it at any instant leaves the store as it was.

async function bytesOf(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A layer of 3,000 small files and an 8 MiB one: big enough to be handed off. */
async function bigLayer(): Promise<{ store: Store; diffId: Digest; desc: { mediaType: string; digest: Digest; size: number }; tar: Buffer }> {
  const entries: FixtureEntry[] = [{ name: 'deps/', type: 'directory' }, { name: 'deps/big', content: Buffer.alloc(8 << 20, 3) }];
  for (let i = 0; i < 3000; i++) entries.push({ name: `deps/f${i}`, content: `file ${i}\n` });
  const tar = await makeTar(entries);
  const store = await openStore(await tempDir());
  const blob = await store.putBlob(tar);
  return { store, diffId: blob.digest, desc: { mediaType: MediaType.layerTar, digest: blob.digest, size: blob.size }, tar };
}

const lockOf = (store: Store, diffId: Digest) => join(store.root, 'locks', `layer-${diffId.slice(7)}`);

/** The pid holding the layer's lock (the detached extractor), undefined when none does. */
function holder(store: Store, diffId: Digest): number | undefined {
  try {
    return Number(readFileSync(join(lockOf(store, diffId), 'owner'), 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`never happened: ${what}`);
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a handed-off layer is extracted by a detached process, which holds its lock until the dir is published', async () => {
  const { store, diffId, tar } = await bigLayer();
  store.handOffExtractions([diffId]);
  // the lock is taken in the extractor's name before this call returns: a build starting now waits for it
  const pid = holder(store, diffId);
  assert.ok(pid !== undefined && pid !== process.pid, 'the lock names the detached process');
  await until('the layer dir is published', () => existsSync(join(store.root, 'layers', diffId.slice(7))));
  await until('the extractor releases its lock and exits', () => !existsSync(lockOf(store, diffId)) && !isAlive(pid));
  const dir = join(store.root, 'layers', diffId.slice(7));
  assert.equal(await readFile(join(dir, 'deps', 'f2999'), 'utf8'), 'file 2999\n');
  assert.equal((await readFile(join(dir, 'deps', 'big'))).length, 8 << 20);
  assert.ok(existsSync(join(store.root, 'tar-split', diffId.slice(7))), 'its split was recorded as it went');
  assert.ok((await bytesOf(store.openBlob(diffId))).equals(tar), 'the layer reads back as the same tar');
  assert.deepEqual(await readdir(join(store.root, 'tmp')), [], 'no temp dir left behind');
});

test('small layers and layers already extracted are not handed off', async () => {
  const { store, diffId } = await bigLayer();
  const small = await store.putBlob(await makeTar([{ name: 'a', content: 'a' }]));
  store.handOffExtractions([small.digest, diffId], { minBytes: 1 << 20 });
  assert.equal(holder(store, small.digest), undefined, 'a small layer is left to whoever needs it');
  assert.notEqual(holder(store, diffId), undefined);
  await until('the big layer is extracted', () => !existsSync(lockOf(store, diffId)));
  store.handOffExtractions([diffId]);
  assert.equal(holder(store, diffId), undefined, 'an extracted layer is not handed off again');
});

test('a build that needs a layer being extracted by the detached process waits for it; when that process is killed it takes over', async () => {
  const { store, diffId, desc } = await bigLayer();
  store.handOffExtractions([diffId]);
  const pid = holder(store, diffId)!;
  // stopped once it has started writing its temp dir (a SIGKILL there is the worst instant: half a tree)
  await until('the extractor writes its temp dir', async () => (await readdir(join(store.root, 'tmp')).catch(() => [])).some((n) => n.startsWith(`${pid}-`)));
  process.kill(pid, 'SIGSTOP');
  let isDone = false;
  const p = store.layerDir(diffId, desc).finally(() => (isDone = true));
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(!isDone, 'the build waits while the extractor lives');
    const mine = (await readdir(join(store.root, 'tmp'))).filter((n) => n.startsWith(`${process.pid}-`));
    assert.deepEqual(mine, [], 'and does not extract the layer a second time beside it');
  }
  process.kill(pid, 'SIGKILL');
  const dir = await p;
  assert.equal(dir, join(store.root, 'layers', diffId.slice(7)));
  assert.equal(await readFile(join(dir, 'deps', 'f1234'), 'utf8'), 'file 1234\n');
  assert.equal((await readFile(join(dir, 'deps', 'big'))).length, 8 << 20);
  // the next open removes what the killed extractor left
  await until('the killed extractor is gone', () => !isAlive(pid));
  await openStore(store.root);
  assert.ok(!(await readdir(join(store.root, 'tmp'))).some((n) => n.startsWith(`${pid}-`)), 'its temp dir is gone');
});

test("an open's flush of settled layers waits while a detached extractor writes: syncfs would wait for its pages too", async () => {
  const { store, diffId, desc } = await bigLayer();
  await store.layerDir(diffId, desc); // extracted with its split; its tar stays until a flush
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    const lock = join(store.root, 'locks', 'layer-' + 'e'.repeat(64));
    mkdirSync(lock, { recursive: true });
    writeFileSync(join(lock, 'owner'), `${sleeper.pid} token\n`);
    let flushes = 0;
    const sync = async () => void flushes++;
    assert.equal(await settleSplitLayers(store.root, { minAgeMs: 1, sync }), 0, 'nothing settled while it runs');
    assert.equal(flushes, 0);
    assert.equal(await settleSplitLayers(store.root, { sync }), 1, 'prune (no age limit) settles anyway');
    assert.equal(flushes, 1);
  } finally {
    sleeper.kill('SIGKILL');
  }
});
