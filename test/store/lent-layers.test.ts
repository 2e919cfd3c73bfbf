import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { helperPath, type Digest } from '../../common/index.js';
import { openStore, MediaType, type Store } from '../../store/index.js';
import { LENT_MOUNTS } from '../../store/lent-layers.js';
import { tempDir } from '../helpers/temp.js';
import { makeTar, type FixtureEntry } from './tar-fixture.js';

// Issue 22 item 3: a build's in-memory layer dirs not yet on the store's disk are lent to
// the detached extractor (store/lent-layers.ts), so the first rebuild takes them as lowers
// rather than waiting: bind-mounted outside the store, taken back and unmounted when the
// extractor is done, and removed by the next open when it was killed.

process.env.TSBUILD_LENT_GRACE_MS = '0'; // the extractors these tests start inherit it

async function lentSetup(): Promise<{ store: Store; diffId: Digest; desc: { mediaType: string; digest: Digest; size: number }; mount: string; dir: string }> {
  const entries: FixtureEntry[] = [{ name: 'deps/', type: 'directory' }, { name: 'deps/big', content: Buffer.alloc(6 << 20, 7) }];
  for (let i = 0; i < 2000; i++) entries.push({ name: `deps/f${i}`, content: `file ${i}\n` });
  const store = await openStore(await tempDir());
  const blob = await store.putBlob(await makeTar(entries));
  // What executor/build-layers.ts has at a build's end: its tmpfs with the layer's dir in it.
  const mount = join(await tempDir(), 'memory');
  mkdirSync(mount);
  execFileSync(helperPath, ['--mount', 'tmpfs', 'test-lent', mount, 'size=64m']);
  const dir = join(mount, blob.digest.slice(7));
  mkdirSync(join(dir, 'deps'), { recursive: true });
  writeFileSync(join(dir, 'deps', 'f1999'), 'file 1999\n');
  return { store, diffId: blob.digest, desc: { mediaType: MediaType.layerTar, digest: blob.digest, size: blob.size }, mount, dir };
}

const loanFile = (store: Store, diffId: Digest) => join(store.root, 'lent', diffId.slice(7));
const loanPid = (store: Store, diffId: Digest) => Number(readFileSync(loanFile(store, diffId), 'utf8').split(' ')[0]);
const lentMountsOf = (pid: number) => (existsSync(LENT_MOUNTS) ? readdirSync(LENT_MOUNTS).filter((n) => n.startsWith(`${pid}-`)) : []);
const mounted = (pid: number) => readFileSync('/proc/self/mountinfo', 'utf8').includes(`${LENT_MOUNTS}/${pid}-`);

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 2400; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`never happened: ${what}`);
}

test('a lent dir is what a build borrows while the extractor works; taken back and unmounted when it is done', { timeout: 120_000 }, async () => {
  const { store, diffId, desc, mount } = await lentSetup();
  assert.equal(await store.handOffExtractions([diffId], { lend: { mount, dirs: new Map([[diffId, join(mount, diffId.slice(7))]]) } }), true);
  const pid = loanPid(store, diffId);
  process.kill(pid, 'SIGSTOP'); // before its Node has even started: the extraction cannot have finished
  try {
    execFileSync(helperPath, ['--umount', mount]); // the build's own mount goes, as at its close
    const borrowed = await store.layerDir(diffId, desc, { borrow: true });
    assert.ok(borrowed.startsWith(`${LENT_MOUNTS}/${pid}-`), borrowed);
    assert.equal(readFileSync(join(borrowed, 'deps', 'f1999'), 'utf8'), 'file 1999\n');
    assert.ok(!existsSync(join(store.root, 'layers', diffId.slice(7))), 'nothing was extracted for it');
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(store.root), 'nothing is mounted inside the store');
    assert.equal(statSync(LENT_MOUNTS).mode & 0o077, 0, 'other users cannot reach the lent layer dirs');
    assert.equal(statSync(join(store.root, 'lent')).mode & 0o077, 0, 'the loans are the store\'s own, owner-only');
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  await until('the extractor publishes the layer and exits', () => existsSync(join(store.root, 'layers', diffId.slice(7))) && lentMountsOf(pid).length === 0);
  assert.ok(!mounted(pid), 'its lent tmpfs is unmounted');
  assert.deepEqual(readdirSync(join(store.root, 'lent')), [], 'the loan and its borrowed mark are gone');
  assert.equal(await store.layerDir(diffId, desc, { borrow: true }), join(store.root, 'layers', diffId.slice(7)), 'then the store dir is used');
});

test('a killed extractor lends nothing, and the next open unmounts its tmpfs; the store can be removed while a loan stands', { timeout: 120_000 }, async () => {
  const { store, diffId, desc, mount } = await lentSetup();
  assert.equal(await store.handOffExtractions([diffId], { lend: { mount, dirs: new Map([[diffId, join(mount, diffId.slice(7))]]) } }), true);
  const pid = loanPid(store, diffId);
  process.kill(pid, 'SIGKILL');
  execFileSync(helperPath, ['--umount', mount]);
  await until('the killed extractor is gone', () => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? false;
    } catch {
      return true;
    }
  });
  // Its tmpfs stays mounted under /run until a store opens: the one below, or another test
  // file's meanwhile (any open removes a dead extractor's mounts), so it is not asserted here.
  const dir = await store.layerDir(diffId, desc, { borrow: true });
  assert.equal(dir, join(store.root, 'layers', diffId.slice(7)), 'a dead loan is not taken: the layer is extracted');
  assert.equal(readFileSync(join(dir, 'deps', 'f1999'), 'utf8'), 'file 1999\n');
  await openStore(store.root);
  assert.ok(!mounted(pid) && lentMountsOf(pid).length === 0, 'the open removed the dead loan\'s mount');

  // A stopped extractor's loan stands while the store is removed: nothing of it is inside the store.
  const other = await lentSetup();
  await other.store.handOffExtractions([other.diffId], { lend: { mount: other.mount, dirs: new Map([[other.diffId, other.dir]]) } });
  const p2 = loanPid(other.store, other.diffId);
  process.kill(p2, 'SIGSTOP');
  execFileSync(helperPath, ['--umount', other.mount]);
  rmSync(other.store.root, { recursive: true }); // throws EBUSY if a mount were inside
  assert.ok(!existsSync(other.store.root));
  process.kill(p2, 'SIGCONT');
  await until('the extractor of a removed store still ends and unmounts', () => lentMountsOf(p2).length === 0 && !mounted(p2));
});
