import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, linkSync, lstatSync, mkdirSync, readlinkSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyTree } from '../../executor/copy-tree.js';
import { getXattrs } from '../../store/index.js';
import { tempDir } from '../helpers/temp.js';

/** executor/copy-tree.ts against what `cp -a` keeps, checked with lstat and the helper's xattr dump. */

const isRoot = process.getuid?.() === 0;

test('copyTree keeps owners, modes, times, hardlinks, symlinks, devices, fifos and xattrs', { skip: !isRoot && 'needs root (owners, devices)' }, async () => {
  const work = await tempDir();
  const src = join(work, 'upper');
  mkdirSync(join(src, 'opaque', 'deep'), { recursive: true });
  writeFileSync(join(src, 'tool'), 'x');
  chownSync(join(src, 'tool'), 1000, 1001);
  chmodSync(join(src, 'tool'), 0o4755);
  linkSync(join(src, 'tool'), join(src, 'opaque', 'hard'));
  symlinkSync('../tool', join(src, 'opaque', 'link'));
  execFileSync('mknod', [join(src, 'gone'), 'c', '0', '0']); // an overlay whiteout
  execFileSync('mkfifo', [join(src, 'fifo')]);
  execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(src, 'opaque')]);
  execFileSync('setfattr', ['-n', 'security.capability', '-v', '0x0100000200200000000000000000000000000000', join(src, 'tool')]);
  utimesSync(join(src, 'opaque', 'deep'), 1_000_000, 1_500_000);
  utimesSync(join(src, 'opaque'), 1_000_000, 1_600_000);

  const dest = join(work, 'copy');
  await copyTree(src, dest);

  for (const rel of ['', 'tool', 'opaque', 'opaque/deep', 'opaque/hard', 'opaque/link', 'gone', 'fifo']) {
    const a = lstatSync(join(src, rel));
    const b = lstatSync(join(dest, rel));
    assert.deepEqual([b.mode, b.uid, b.gid, b.rdev, b.nlink], [a.mode, a.uid, a.gid, a.rdev, a.nlink], rel || '(top)');
    if (!a.isSymbolicLink()) assert.ok(Math.abs(b.mtimeMs - a.mtimeMs) < 2, `${rel}: mtime ${b.mtimeMs} for ${a.mtimeMs}`);
  }
  assert.equal(lstatSync(join(dest, 'tool')).ino, lstatSync(join(dest, 'opaque', 'hard')).ino, 'a hardlink stays one file');
  assert.equal(readlinkSync(join(dest, 'opaque', 'link')), '../tool');
  const xs = await getXattrs(dest, { recursive: true });
  assert.equal(xs.get(join(dest, 'opaque'))?.['trusted.overlay.opaque']?.toString(), 'y');
  assert.equal(xs.get(join(dest, 'tool'))?.['security.capability']?.toString('hex'), '0100000200200000000000000000000000000000', 'set after chown, which drops it');

  // A file is copied as the destination itself.
  await copyTree(join(src, 'tool'), join(work, 'one'));
  assert.equal(lstatSync(join(work, 'one')).mode, lstatSync(join(src, 'tool')).mode);
});

// A RUN's upper dir kept as a layer's dir (executor/build-layers.ts keep): overlay's own
// bookkeeping for its upper fs (impure, origin, uuid; fs/overlayfs/overlayfs.h) is not part of
// the layer, so the copy is what extracting the layer's tar makes: the opaque mark and the
// file's own xattrs only. Its xattrs come from the snapshot's listing: the helper is not asked.
test('copyTree asLayer keeps the opaque mark and real xattrs, not overlay bookkeeping, from the xattrs given', { skip: !isRoot && 'needs root (trusted.* xattrs)' }, async () => {
  const work = await tempDir();
  const src = join(work, 'upper');
  mkdirSync(join(src, 'etc'), { recursive: true });
  mkdirSync(join(src, 'opaque'));
  writeFileSync(join(src, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
  writeFileSync(join(src, 'tool'), 'x');
  const set = (path: string, name: string, value: string) => execFileSync('setfattr', ['-n', name, '-v', value, path]);
  set(src, 'trusted.overlay.uuid', '0sAAAAAAAAAAAAAAAAAAAAAA==');
  set(join(src, 'etc'), 'trusted.overlay.impure', 'y');
  set(join(src, 'etc', 'passwd'), 'trusted.overlay.origin', '0sAPsdAAE=');
  set(join(src, 'opaque'), 'trusted.overlay.opaque', 'y');
  set(join(src, 'tool'), 'user.note', 'kept');
  const read = await getXattrs(src, { recursive: true });

  const dest = join(work, 'layer');
  await copyTree(src, dest, { asLayer: true, xattrs: read });
  const xs = await getXattrs(dest, { recursive: true });
  assert.deepEqual([...xs.keys()].sort(), [join(dest, 'opaque'), join(dest, 'tool')]);
  assert.equal(xs.get(join(dest, 'opaque'))?.['trusted.overlay.opaque']?.toString(), 'y');
  assert.equal(xs.get(join(dest, 'tool'))?.['user.note']?.toString(), 'kept');

  // The map given is what is copied: an xattr on disk but not in it is not looked for.
  set(join(src, 'tool'), 'user.later', 'not read');
  const again = join(work, 'again');
  await copyTree(src, again, { asLayer: true, xattrs: read });
  assert.equal((await getXattrs(join(again, 'tool'), { recursive: false })).get(join(again, 'tool'))?.['user.later'], undefined);
  // Without asLayer every xattr is copied, overlay's too.
  const plain = join(work, 'plain');
  await copyTree(src, plain);
  assert.equal((await getXattrs(join(plain, 'etc'), { recursive: false })).get(join(plain, 'etc'))?.['trusted.overlay.impure']?.toString(), 'y');
});
