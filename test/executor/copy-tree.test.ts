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
