import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { SecretMasker } from '../../executor/mounts.js';
import { claimCacheMount, cacheMountsDir, ensureCacheMount, listCacheMounts, removeCacheMounts } from '../../store/cache-mounts.js';
import { openStore } from '../../store/index.js';
import { tempDir } from '../helpers/temp.js';

test('sharing=private: one claim at a time, a dead holder is taken over', async () => {
  const root = await tempDir();
  const first = await claimCacheMount(root, 'npm');
  assert.ok(first);
  assert.equal(await claimCacheMount(root, 'npm'), undefined, 'held by a live process');
  assert.ok(await claimCacheMount(root, 'other'), 'another id is independent');
  await first();
  const again = await claimCacheMount(root, 'npm');
  assert.ok(again);
  await again();
  // A claim left by a dead process (pid 2^22+1 is above pid_max's default) is stale.
  const busy = (await readdir(cacheMountsDir(root))).find((n) => n.endsWith('.busy'));
  const stale = join(cacheMountsDir(root), busy ?? 'x.busy');
  await mkdir(stale, { recursive: true });
  await writeFile(join(stale, 'pid'), '4194305');
  const taken = await claimCacheMount(root, busy ? 'other' : 'npm');
  assert.ok(taken);
  await taken();
});

test('cache mounts: created once with mode and owner, listed by id, removed by prune --all', async () => {
  const store = await openStore(join(await tempDir(), 'root'));
  let seeded = 0;
  const dir = await ensureCacheMount(store, '/root/.npm', {
    mode: 0o750,
    uid: 0,
    gid: 0,
    seed: async (d) => {
      seeded++;
      await writeFile(join(d, 'seed'), 'x');
    },
  });
  const again = await ensureCacheMount(store, '/root/.npm', { mode: 0o755, uid: 0, gid: 0, seed: async () => void seeded++ });
  assert.equal(again, dir);
  assert.equal(seeded, 1);
  assert.deepEqual(await readdir(dir), ['seed']);
  assert.deepEqual((await listCacheMounts(store.root)).map((m) => m.id), ['/root/.npm']);
  assert.equal(await removeCacheMounts(store.root), 1);
  assert.deepEqual(await listCacheMounts(store.root), []);
});

test('secret values are masked in output; output without secrets passes unchanged', () => {
  const m = new SecretMasker(['hunter2']);
  const out = [m.push(Buffer.from('token is hunter2!\nhunter2\n')), m.flush()].map((b) => Buffer.from(b).toString()).join('');
  assert.equal(out, 'token is ****!\n****\n');
  const same = Buffer.from('nothing here');
  assert.equal(new SecretMasker([]).push(same), same);
});

test('a secret split between two output chunks is still masked', () => {
  const m = new SecretMasker(['hunter2']);
  const parts = [m.push(Buffer.from('pass: hun')), m.push(Buffer.from('ter2 and hu')), m.push(Buffer.from('go\n')), m.flush()];
  const text = parts.map((p) => Buffer.from(p).toString()).join('');
  assert.equal(text, 'pass: **** and hugo\n');
  assert.equal(Buffer.from(parts[0]).toString(), 'pass: ', 'the possible start of a secret is held back');
  const tail = new SecretMasker(['hunter2']);
  assert.equal(Buffer.from(tail.push(Buffer.from('ends with hun'))).toString(), 'ends with ');
  assert.equal(Buffer.from(tail.flush()).toString(), 'hun');
});
