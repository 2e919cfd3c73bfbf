import assert from 'node:assert/strict';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { getXattrs } from '../../store/index.js';
import { startUnpack, unpackTarFile } from '../../store/extract-thread.js';
import { extractTar } from '../../store/layers.js';
import { tempDir } from '../helpers/temp.js';
import { makeTar, snapshot, type FixtureEntry } from './tar-fixture.js';

// This build's own layers are unpacked in a worker thread once they are big (4 MiB of tar),
// else on the main thread: both must make exactly the tree the store's extractor makes.

/** A layer with every kind of entry the extractor treats specially, and `fillerBytes` of plain files. */
function entries(fillerBytes: number): FixtureEntry[] {
  const out: FixtureEntry[] = [
    { name: 'app/', type: 'directory', mode: 0o750, uid: 1000, gid: 1000 },
    { name: 'app/bin/tool', content: 'run me', mode: 0o4755 },
    { name: 'app/owned', content: 'mine', uid: 1234, gid: 5678, mode: 0o640 },
    { name: 'app/link', type: 'symlink', linkname: 'bin/tool' },
    { name: 'app/hard', type: 'link', linkname: 'app/owned' },
    { name: 'app/.wh.gone', content: '' },
    { name: 'etc/.wh..wh..opq', content: '' },
    { name: 'etc/conf', content: 'new', pax: { 'SCHILY.xattr.user.note': 'kept' } },
    { name: 'app/owned', content: 'mine, the second time' }, // duplicates: the last one wins
    { name: 'deep/a/b/c/d/e.txt', content: 'parents made as 0755' },
  ];
  for (let i = 0, left = fillerBytes; left > 0; i++) {
    const size = Math.min(left, i % 50 === 0 ? 2 * 1024 * 1024 : 3000 + i);
    if (i < 17) out.push({ name: `filler/d${i}/`, type: 'directory', mode: 0o755 });
    out.push({ name: `filler/d${i % 17}/f${i}`, content: Buffer.alloc(size, i % 251), mode: 0o600 + (i % 2) * 0o44 });
    left -= size;
  }
  return out;
}

/**
 * Everything under `dir`. Mtimes that are the time of the extraction (a whiteout's, a parent
 * made for a deeper entry: a dir that is not in the archive) are left out; the rest must be the archive's.
 */
async function tree(dir: string, archived: FixtureEntry[]): Promise<{ files: string[]; xattrs: string }> {
  const dirs = new Set(archived.filter((e) => e.type === 'directory').map((e) => `/${e.name.replace(/\/$/, '')}`));
  const files = (await snapshot(dir, '')).map((l) => {
    const [path, mode, owner, size, mtime, ...extra] = l.slice(dir.length).split(' ');
    const isNow = mode.startsWith('20') || (mode.startsWith('40') && !dirs.has(path));
    return [path, mode, owner, size, isNow ? '-' : mtime, ...extra].join(' ');
  });
  const xattrs = [...(await getXattrs(dir, { recursive: true }))]
    .map(([p, xs]) => `${p.slice(dir.length)} ${JSON.stringify(Object.entries(xs).map(([k, v]) => [k, v.toString('hex')]))}`)
    .sort()
    .join('\n');
  return { files, xattrs };
}

/**
 * The tar written to `startUnpack`'s sink in pieces of `piece` bytes through one buffer that
 * is overwritten as soon as each write is done, as the tar writer reuses its batches
 * (store/tar-write.ts): the sink must have taken its bytes by then.
 */
async function throughSink(tar: Buffer, target: string, piece: number): Promise<void> {
  const x = startUnpack(target, 'test layer');
  const buf = Buffer.alloc(piece);
  for (let at = 0; at < tar.length; at += piece) {
    const n = tar.copy(buf, 0, at, at + piece);
    await new Promise<void>((resolve) => x.sink.write(buf.subarray(0, n), () => resolve()));
    buf.fill(0xa5);
  }
  x.sink.end();
  await x.done;
}

for (const size of [{ name: 'big (a worker thread)', bytes: 12 * 1024 * 1024 }, { name: 'small (the main thread)', bytes: 200_000 }]) {
  test(`a ${size.name} layer unpacks to the tree the store's extractor makes, from a sink and from a file`, async () => {
    const box = await tempDir('tsbuild-unpack-');
    const archived = entries(size.bytes);
    const tar = await makeTar(archived);
    const file = join(box, 'layer.tar');
    await writeFile(file, tar);
    const dirs = { main: join(box, 'main'), sink: join(box, 'sink'), file: join(box, 'file') };
    for (const d of Object.values(dirs)) await mkdir(d);
    await extractTar(Readable.from([tar]), dirs.main, { what: 'test layer' });
    await throughSink(tar, dirs.sink, 7_000);
    await unpackTarFile(file, dirs.file, 'test layer');
    const want = await tree(dirs.main, archived);
    assert.ok(want.files.some((l) => l.startsWith('/app/gone 20000 0:0 ')), 'the whiteout became a 0/0 char device');
    assert.ok(!want.files.some((l) => l.includes('.wh.')));
    assert.ok(want.files.some((l) => l.startsWith('/app/bin/tool 104755 ')), 'setuid kept');
    assert.ok(want.files.some((l) => l.startsWith('/app/owned 100644 0:0 21 ')), 'the last duplicate won');
    assert.match(want.xattrs, /\/etc .*trusted\.overlay\.opaque/);
    assert.match(want.xattrs, /\/etc\/conf .*user\.note/);
    assert.deepEqual(await tree(dirs.sink, archived), want);
    assert.deepEqual(await tree(dirs.file, archived), want);
  });
}

test('a big unpack through the worker fails as the extractor does: one UserError naming the layer', async () => {
  const box = await tempDir('tsbuild-unpack-bad-');
  const tar = await makeTar([...entries(6 * 1024 * 1024), { name: '../escape', content: 'x' }]);
  const target = join(box, 'root');
  await mkdir(target);
  await assert.rejects(throughSink(tar, target, 65_536), { name: 'UserError', code: 'hostile-layer', message: 'test layer: entry "../escape" points outside the layer' });
  const truncated = join(box, 'truncated.tar');
  await writeFile(truncated, tar.subarray(0, 5 * 1024 * 1024 + 100));
  const t2 = join(box, 'root2');
  await mkdir(t2);
  await assert.rejects(unpackTarFile(truncated, t2, 'test layer'), { name: 'UserError', code: 'tar-invalid' });
});

test('an abandoned unpack settles, in the worker and on the main thread', async () => {
  const box = await tempDir('tsbuild-unpack-abort-');
  const tar = await makeTar(entries(10 * 1024 * 1024));
  for (const cut of [6 * 1024 * 1024, 100_000]) {
    const target = join(box, `root-${cut}`);
    await mkdir(target);
    const x = startUnpack(target, 'test layer');
    x.sink.write(tar.subarray(0, cut));
    x.abort();
    await assert.rejects(x.done);
  }
});
