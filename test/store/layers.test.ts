import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, readFile, readlink, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError, type Digest } from '../../common/index.js';
import { openStore, MediaType } from '../../store/index.js';
import { tempDir } from '../helpers/temp.js';
import { makeTar, sha256 } from './tar-fixture.js';

const isRoot = process.getuid?.() === 0;

async function storeLayer(root: string, tar: Buffer, gzip = false) {
  const store = await openStore(root);
  const diffId = sha256(gzip ? (await import('node:zlib')).gunzipSync(tar) : tar) as Digest;
  const blob = await store.putBlob(tar);
  const desc = { mediaType: gzip ? MediaType.layerGzip : MediaType.layerTar, digest: blob.digest, size: blob.size };
  return { store, diffId, desc };
}

const MTIME = new Date('2023-11-14T22:13:20Z');

test('a layer is extracted once into layers/<diff_id hex> with modes, owners, mtimes, links and xattrs', async () => {
  const root = await tempDir();
  const tar = await makeTar([
    { name: 'etc/', type: 'directory', mode: 0o750, uid: 7, gid: 8, mtime: MTIME },
    { name: 'etc/conf', content: 'abc', mode: 0o640, uid: 1000, gid: 1001, mtime: MTIME },
    { name: 'etc/link', type: 'symlink', linkname: 'conf' },
    { name: 'etc/hard', type: 'link', linkname: 'etc/conf' },
    { name: 'bin/', type: 'directory' },
    { name: 'bin/ping', content: 'elf', mode: 0o755, pax: { 'SCHILY.xattr.user.note': 'hello' } },
    { name: 'bin/sudo', content: 'elf', mode: 0o4755 },
  ]);
  const { store, diffId, desc } = await storeLayer(root, tar);
  const dir = await store.layerDir(diffId, desc);
  assert.equal(dir, join(store.root, 'layers', diffId.slice(7)));
  const conf = await stat(join(dir, 'etc', 'conf'));
  assert.equal(conf.mode & 0o7777, 0o640);
  assert.equal(conf.mtimeMs, MTIME.getTime());
  if (isRoot) assert.deepEqual([conf.uid, conf.gid], [1000, 1001]);
  const etc = await stat(join(dir, 'etc'));
  assert.equal(etc.mode & 0o7777, 0o750);
  assert.equal(etc.mtimeMs, MTIME.getTime(), 'directory mtimes are set after their children');
  assert.equal(await readlink(join(dir, 'etc', 'link')), 'conf');
  assert.equal((await stat(join(dir, 'etc', 'hard'))).ino, conf.ino, 'hardlink shares the inode');
  assert.equal((await stat(join(dir, 'bin', 'sudo'))).mode & 0o7777, 0o4755);
  const xattr = execFileSync('getfattr', ['--only-values', '-n', 'user.note', join(dir, 'bin', 'ping')], { encoding: 'utf8' });
  assert.equal(xattr, 'hello');
  // extracted once: the second call returns the same dir without touching it
  const again = await store.layerDir(diffId, desc);
  assert.equal(again, dir);
  assert.deepEqual(await readdir(join(store.root, 'tmp')), [], 'no temp dir left behind');
});

test('a binary xattr (security.capability style) survives extraction byte for byte', async (t) => {
  if (!isRoot) return t.skip('setting trusted.* xattrs needs root');
  const root = await tempDir();
  const work = await tempDir();
  // GNU tar writes the PAX record with the raw bytes, as image builders do
  const src = join(work, 'src');
  execFileSync('mkdir', ['-p', src]);
  execFileSync('sh', ['-c', 'printf x > "$1/cap"', 'sh', src]);
  execFileSync('setfattr', ['-n', 'trusted.bin', '-v', '0x01000002002000ffe80000', join(src, 'cap')]);
  const tar = execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-cf', '-', '-C', src, 'cap']);
  const { store, diffId, desc } = await storeLayer(root, tar);
  const dir = await store.layerDir(diffId, desc);
  const hex = execFileSync('getfattr', ['-e', 'hex', '-n', 'trusted.bin', join(dir, 'cap')], { encoding: 'utf8' });
  assert.match(hex, /trusted\.bin=0x01000002002000ffe80000/);
});

test('whiteouts become overlay whiteouts (char 0/0) and opaque markers the trusted.overlay.opaque xattr', async (t) => {
  if (!isRoot) return t.skip('whiteout devices need root');
  const root = await tempDir();
  const tar = await makeTar([
    { name: 'a/', type: 'directory' },
    { name: 'a/.wh..wh..opq', content: '' },
    { name: 'a/kept', content: 'k' },
    { name: '.wh.gone', content: '' },
    { name: 'b/', type: 'directory' },
    { name: 'b/.wh.old', content: '' },
  ]);
  const { store, diffId, desc } = await storeLayer(root, tar);
  const dir = await store.layerDir(diffId, desc);
  const gone = await lstat(join(dir, 'gone'));
  assert.ok(gone.isCharacterDevice());
  assert.equal(gone.rdev, 0);
  assert.ok((await lstat(join(dir, 'b', 'old'))).isCharacterDevice());
  const opq = execFileSync('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', join(dir, 'a')], { encoding: 'utf8' });
  assert.equal(opq, 'y');
  await assert.rejects(lstat(join(dir, 'a', '.wh..wh..opq')), 'the marker file itself is not extracted');
  assert.equal(await readFile(join(dir, 'a', 'kept'), 'utf8'), 'k');
});

test('a gzip layer is extracted by its magic bytes and checked against its diff_id', async () => {
  const root = await tempDir();
  const tar = await makeTar([{ name: 'hello', content: 'world' }], { gzip: true });
  const { store, diffId, desc } = await storeLayer(root, tar, true);
  const dir = await store.layerDir(diffId, desc);
  assert.equal(await readFile(join(dir, 'hello'), 'utf8'), 'world');
});

test('a layer whose content does not match its diff_id is refused and nothing is published', async () => {
  const root = await tempDir();
  const tar = await makeTar([{ name: 'hello', content: 'world' }]);
  const { store, desc } = await storeLayer(root, tar);
  const wrong = sha256(Buffer.from('something else')) as Digest;
  await assert.rejects(store.layerDir(wrong, desc), (e: unknown) => e instanceof UserError && e.code === 'layer-digest-mismatch');
  assert.deepEqual(await readdir(join(store.root, 'layers')), []);
});
