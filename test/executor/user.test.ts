import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../common/index.js';
import { resolveChown, resolveUser } from '../../executor/user.js';

let rootfs: string;
let bare: string;
before(async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'tsbuild-user-'));
  rootfs = join(tmp, 'rootfs');
  bare = join(tmp, 'bare');
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await mkdir(bare);
  await writeFile(
    join(rootfs, 'etc/passwd'),
    ['root:x:0:0:root:/root:/bin/sh', 'daemon:x:1:1::/:/usr/sbin/nologin', 'app:x:1000:1000::/home/app:/bin/sh', 'www:x:33:33::/var/www:/bin/sh', '# comment', ''].join('\n'),
  );
  await writeFile(
    join(rootfs, 'etc/group'),
    ['root:x:0:', 'daemon:x:1:', 'www-data:x:33:', 'app:x:1000:', 'docker:x:999:app,www', 'audio:x:29:app', ''].join('\n'),
  );
});
after(async () => rm(join(rootfs, '..'), { recursive: true, force: true }));

const rows: { name: string; spec: string; want: { uid: number; gid: number; groups: number[] } }[] = [
  { name: 'a name gives its uid, primary gid and supplementary groups', spec: 'app', want: { uid: 1000, gid: 1000, groups: [999, 29] } },
  { name: 'a numeric uid with an entry takes that entry\'s gid and groups', spec: '1000', want: { uid: 1000, gid: 1000, groups: [999, 29] } },
  { name: 'a numeric uid without an entry gets gid 0', spec: '4242', want: { uid: 4242, gid: 0, groups: [] } },
  { name: 'name:group uses the group and no supplementary groups', spec: 'app:www-data', want: { uid: 1000, gid: 33, groups: [] } },
  { name: 'uid:gid needs no entries', spec: '5000:6000', want: { uid: 5000, gid: 6000, groups: [] } },
  { name: 'root', spec: 'root', want: { uid: 0, gid: 0, groups: [] } },
  { name: 'an empty spec is root', spec: '', want: { uid: 0, gid: 0, groups: [] } },
  { name: 'name:numeric gid', spec: 'www:7', want: { uid: 33, gid: 7, groups: [] } },
];
for (const r of rows) test(`resolveUser: ${r.name}`, async () => assert.deepEqual(await resolveUser(r.spec, rootfs), r.want));

test('resolveUser: an unknown name is Docker\'s error', async () => {
  await assert.rejects(resolveUser('ghost', rootfs), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.code, 'unknown-user');
    assert.equal(e.message, 'unable to find user ghost: no matching entries in passwd file');
    return true;
  });
});

test('resolveUser: an unknown group name is an error', async () => {
  await assert.rejects(resolveUser('app:ghosts', rootfs), (e: unknown) => e instanceof UserError && e.code === 'unknown-group' && e.message === 'unable to find group ghosts: no matching entries in group file');
});

test('resolveUser: a rootfs without /etc/passwd accepts numbers and refuses names', async () => {
  assert.deepEqual(await resolveUser('12:34', bare), { uid: 12, gid: 34, groups: [] });
  assert.deepEqual(await resolveUser('12', undefined), { uid: 12, gid: 0, groups: [] });
  await assert.rejects(resolveUser('app', bare), (e: unknown) => e instanceof UserError && e.code === 'unknown-user');
});

test('resolveUser never reads the host /etc/passwd', async () => {
  // "daemon" exists on the host; a rootfs symlink to the host file is confined to the rootfs.
  const r = join(rootfs, '..', 'escape');
  await mkdir(join(r, 'etc'), { recursive: true });
  await symlink('/etc/passwd', join(r, 'etc/passwd'));
  // Confined to the rootfs, the link points at itself: a loop, never the host file.
  await assert.rejects(resolveUser('daemon', r), (e: unknown) => e instanceof UserError && e.code === 'context-symlink-loop');
});

test('resolveUser: ids above 2^31-1 are refused', async () => {
  await assert.rejects(resolveUser('4294967296', rootfs), (e: unknown) => e instanceof UserError && e.code === 'bad-user-id');
});

const chownRows: { spec: string; want: { uid: number; gid: number } }[] = [
  { spec: '1000', want: { uid: 1000, gid: 1000 } },
  { spec: '10:11', want: { uid: 10, gid: 11 } },
  { spec: 'app', want: { uid: 1000, gid: 1000 } },
  { spec: 'www:docker', want: { uid: 33, gid: 999 } },
  { spec: 'app:29', want: { uid: 1000, gid: 29 } },
  { spec: '4242', want: { uid: 4242, gid: 4242 } },
];
for (const r of chownRows)
  test(`resolveChown(${JSON.stringify(r.spec)}) follows BuildKit (a bare uid is also the gid)`, async () =>
    assert.deepEqual(await resolveChown(r.spec, rootfs), r.want));

test('resolveChown: names need the destination rootfs', async () => {
  await assert.rejects(resolveChown('app', undefined), (e: unknown) => e instanceof UserError && e.code === 'unknown-user');
  await assert.rejects(resolveChown('1:nogroup', rootfs), (e: unknown) => e instanceof UserError && e.code === 'unknown-group');
});
