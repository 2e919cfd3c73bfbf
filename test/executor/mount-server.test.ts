/**
 * executor/mount.ts sends its mounts to one `tsbuild-helper --mount-server`
 * (runtime-helper/mount-server.c) instead of spawning the helper for each: the same mounts,
 * the same one-line errors, relative overlay lowers resolved in the directory given, and a
 * server that neither keeps tsbuild alive nor outlives it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { projectRoot } from '../../common/index.js';
import { mount, unmount } from '../../executor/mount.js';
import { tempDir } from '../helpers/temp.js';

const mounted = (path: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);
const servers = () => spawnSync('pgrep', ['-f', '--', '--mount-server'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);

test('mounts and unmounts through the server, with relative lowers and the helper\'s errors', async () => {
  const dir = await tempDir();
  for (const d of ['t', 'l1', 'l2', 'view']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'l1', 'a'), 'lower one\n');
  writeFileSync(join(dir, 'l2', 'a'), 'lower two\n');
  await mount('tmpfs', 'test-server', join(dir, 't'), 'size=1m,mode=0700,nodev');
  assert.ok(mounted(join(dir, 't')));
  await mount('overlay', 'overlay', join(dir, 'view'), 'ro,lowerdir=l2:l1', { cwd: dir });
  assert.equal(readFileSync(join(dir, 'view', 'a'), 'utf8'), 'lower two\n', 'lowerdirs relative to cwd, the first on top');
  await Promise.all([unmount(join(dir, 'view')), unmount(join(dir, 't'))]);
  assert.ok(!mounted(join(dir, 't')) && !mounted(join(dir, 'view')));
  await assert.rejects(unmount(join(dir, 't')), { message: `umount ${join(dir, 't')}: Invalid argument` });
  await assert.rejects(mount('overlay', 'overlay', join(dir, 'view'), 'ro,lowerdir=nope:l1', { cwd: dir }), /^Error: mount overlay on .*\/view: No such file or directory$/);
  await assert.rejects(mount('tmpfs', 'x', join(dir, 't'), 'size=1m', { cwd: join(dir, 'missing') }), /chdir .*missing: No such file or directory/);
});

test('a process that mounted through the server exits on its own, and the server with it', () => {
  const before = new Set(servers());
  const url = pathToFileURL(join(projectRoot, 'dist', 'executor', 'mount.js')).href;
  const script = `const m = await import(${JSON.stringify(url)}); const d = process.argv[1];
    await m.mount('tmpfs', 'test-exit', d, 'size=1m'); await m.unmount(d); console.log('done');`;
  const dir = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, dir], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'done\n');
  for (let i = 0; i < 100 && servers().some((p) => !before.has(p)); i++) spawnSync('sleep', ['0.05']);
  assert.deepEqual(servers().filter((p) => !before.has(p)), [], 'its server ended at the end of its input');
});
