import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTar, testStore } from '../helpers/layer-tar.js';
import type { Store } from '../../store/index.js';
import { snapshotDir } from '../../executor/snapshot.js';

let tmp: string;
let store: Store;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tsbuild-snap-'));
  store = await testStore(join(tmp, 'store'));
});
after(async () => rm(tmp, { recursive: true, force: true }));


let n = 0;
const sh = (script: string, cwd: string) => execFileSync('sh', ['-ec', script], { cwd });

/** A real overlay mount: `prepare` builds the lower dir, `change` runs in the merged dir; returns the upper dir. */
async function overlay(prepare: string, change: string): Promise<string> {
  const d = join(tmp, `o${n++}`);
  for (const s of ['lower', 'upper', 'work', 'merged']) await mkdir(join(d, s), { recursive: true });
  sh(prepare, join(d, 'lower'));
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${d}/lower,upperdir=${d}/upper,workdir=${d}/work`, join(d, 'merged')]);
  try {
    sh(change, join(d, 'merged'));
  } finally {
    execFileSync('umount', [join(d, 'merged')]);
  }
  return join(d, 'upper');
}

async function snapshot(dir: string, kind: 'overlay-upper' | 'plain' = 'overlay-upper', sourceDateEpoch?: number) {
  const r = await snapshotDir(store, dir, { kind, sourceDateEpoch });
  if (!r) return undefined;
  return { r, items: readTar(await readFile(store.blobPath(r.diffId))) };
}

test('an overlay upper dir becomes a layer: whiteouts, opaque dirs, hardlinks, symlinks, modes, capabilities', async () => {
  const upper = await overlay(
    'echo a > a; echo k > keep; mkdir -p dir/sub gone/deep; echo x > dir/sub/x; echo g > gone/deep/g; echo t > tool',
    [
      'rm a',
      'rm -rf gone',
      'rm -rf dir && mkdir dir && echo n > dir/new',
      'echo hi > added && ln added hard && ln -s added sym',
      'mkdir -p newdir/deep && echo d > newdir/deep/f',
      'chmod 700 keep',
      'setcap cap_net_raw+ep tool',
      'mkfifo pipe',
    ].join('\n'),
  );
  const s = (await snapshot(upper))!;
  const got = s.items.map((i) => [i.name, i.type, i.mode.toString(8), i.linkname]);
  assert.deepEqual(got, [
    ['.wh.a', '0', '0', ''],
    ['.wh.gone', '0', '0', ''],
    ['added', '0', '644', ''],
    ['dir/', '5', '755', ''],
    ['dir/.wh..wh..opq', '0', '0', ''],
    ['dir/new', '0', '644', ''],
    ['hard', '1', '644', 'added'],
    ['keep', '0', '700', ''],
    ['newdir/', '5', '755', ''],
    ['newdir/deep/', '5', '755', ''],
    ['newdir/deep/f', '0', '644', ''],
    ['pipe', '6', '644', ''],
    ['sym', '2', '777', 'added'],
    ['tool', '0', '644', ''],
  ]);
  const byName = new Map(s.items.map((i) => [i.name, i]));
  assert.equal(byName.get('added')!.body.toString(), 'hi\n');
  assert.equal(byName.get('hard')!.size, 0);
  // cap_net_raw+ep: VFS_CAP_REVISION_2 with the effective flag, bit 13 permitted.
  assert.equal(byName.get('tool')!.xattrs['security.capability']?.subarray(0, 8).toString('hex'), '0100000200200000');
  for (const i of s.items) assert.deepEqual(Object.keys(i.xattrs).filter((k) => k.startsWith('trusted.overlay.')), [], i.name);
  assert.equal(s.r.entries, 14);
  assert.equal(s.r.contentBytes, 'hi\n'.length + 'n\n'.length + 'k\n'.length + 'd\n'.length + 't\n'.length);
});

test('GNU tar lists the snapshot layer with the capability xattr', async () => {
  const upper = await overlay('echo t > tool', 'setcap cap_net_raw+ep tool; rm -f nothing');
  const s = (await snapshot(upper))!;
  const listing = execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-tvvf', store.blobPath(s.r.diffId)]).toString();
  assert.match(listing, /tool/);
  const x = join(tmp, `x${n++}`);
  await mkdir(x);
  execFileSync('tar', ['--xattrs', '--xattrs-include=security.*', '-xf', store.blobPath(s.r.diffId), '-C', x]);
  assert.match(execFileSync('getcap', [join(x, 'tool')]).toString(), /cap_net_raw[=+]ep/);
});

test('a RUN that changed nothing gives no layer', async () => {
  const upper = await overlay('echo a > a', 'cat a > /dev/null');
  assert.equal(await snapshot(upper), undefined);
});

test('SOURCE_DATE_EPOCH clamps snapshot mtimes', async () => {
  const upper = await overlay('true', 'echo x > f; touch -d @5 old');
  const s = (await snapshot(upper, 'overlay-upper', 100))!;
  assert.deepEqual(s.items.map((i) => [i.name, i.mtime]), [['f', 100], ['old', 5]]);
});

test('a plain directory keeps 0/0 character devices as devices', async () => {
  const d = join(tmp, `p${n++}`);
  await mkdir(d);
  await writeFile(join(d, 'f'), 'x');
  execFileSync('mknod', [join(d, 'c'), 'c', '0', '0']);
  const s = (await snapshot(d, 'plain'))!;
  assert.deepEqual(s.items.map((i) => [i.name, i.type]), [['c', '3'], ['f', '0']]);
});

test('the runtime\'s mount points can be left out of the snapshot', async () => {
  const upper = await overlay('true', 'mkdir -p proc etc && : > etc/resolv.conf && echo x > etc/app.conf');
  const r = await snapshotDir(store, upper, { kind: 'overlay-upper', omit: ['proc', '/etc/resolv.conf'] });
  assert.deepEqual(readTar(await readFile(store.blobPath(r!.diffId))).map((i) => i.name), ['etc/', 'etc/app.conf']);
});

test('the runtime helper\'s listing of an upper dir gives the same layer as walking it, and an unfinished one is not used', async () => {
  const { helperPath } = await import('../../common/index.js');
  const upper = await overlay(
    'echo a > a; mkdir -p dir/sub gone; echo x > dir/sub/x; echo t > tool; echo v > "v w"',
    [
      'rm a && rm -rf gone',
      'rm -rf dir && mkdir dir && echo n > dir/new',
      'echo hi > added && ln added hard && ln -s added sym && ln -s "$(printf "t%.0s" $(seq 200))" long',
      'mkdir -p proc "caf\u00e9/\u00fcber" && echo u > "caf\u00e9/\u00fcber/f" && : > etc-resolv',
      'setcap cap_net_raw+ep tool && setfattr -n user.bin -v 0x00ff01 added',
      'mkfifo pipe && mknod dev c 1 3 && chown 3000000:12 "v w" && chmod 4751 added && touch -d @12345 dir/new && touch -h -d @-86400 sym',
    ].join('\n'),
  );
  const listing = join(tmp, `tree${n++}`);
  execFileSync(helperPath, ['--tree', upper, listing]);
  const omit = ['proc', 'etc-resolv'];
  const walked = await snapshotDir(store, upper, { kind: 'overlay-upper', omit });
  const listed = await snapshotDir(store, upper, { kind: 'overlay-upper', omit, treeFile: listing });
  assert.ok(walked && listed);
  assert.equal(listed.diffId, walked.diffId);
  assert.equal(listed.entries, walked.entries);
  const names = readTar(await readFile(store.blobPath(listed.diffId))).map((i) => i.name);
  assert.ok(names.includes('.wh.a') && names.includes('dir/.wh..wh..opq') && !names.includes('proc/'), names.join(' '));
  // A listing cut short (no end marker): the dir is walked instead, with the same result.
  const text = await readFile(listing);
  await writeFile(listing, text.subarray(0, text.length - 8));
  const cut = await snapshotDir(store, upper, { kind: 'overlay-upper', omit, treeFile: listing });
  assert.equal(cut?.diffId, walked.diffId);
  // The listing is what is read: after a change it no longer shows, the layers differ.
  await writeFile(listing, text);
  execFileSync('chmod', ['700', join(upper, 'dir', 'new')]);
  const stale = await snapshotDir(store, upper, { kind: 'overlay-upper', omit, treeFile: listing });
  const fresh = await snapshotDir(store, upper, { kind: 'overlay-upper', omit });
  assert.equal(stale?.diffId, walked.diffId);
  assert.notEqual(fresh?.diffId, walked.diffId);
});
