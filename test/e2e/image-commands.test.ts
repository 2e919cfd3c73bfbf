import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../../cli/tsbuild.js';
import { tempDir } from '../helpers/temp.js';
import { makeTar } from '../store/tar-fixture.js';

/** The image commands as a user types them, on a temp store (TSBUILD_ROOT). */

async function rootfsTar(dir: string, fileBytes = 20480): Promise<string> {
  const path = join(dir, 'rootfs.tar');
  await writeFile(
    path,
    await makeTar([
      { name: 'bin/', type: 'directory' },
      { name: 'bin/tool', content: Buffer.alloc(fileBytes, 7), mode: 0o755 },
      { name: 'bin/link', type: 'symlink', linkname: 'tool' },
    ]),
  );
  return path;
}

async function setup() {
  const root = await tempDir();
  const work = await tempDir();
  const tar = await rootfsTar(work);
  const imp = await runCli(['import', tar, 'saluda'], { root });
  assert.equal(imp.code, 0, imp.stderr);
  const id = imp.stdout.trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  return { root, work, id };
}

test('import prints the id; images lists it with Docker columns and decimal sizes', async () => {
  const { root, id } = await setup();
  const r = await runCli(['images'], { root });
  assert.equal(r.code, 0);
  const lines = r.stdout.trimEnd().split('\n');
  // CREATED is as wide as its longest value ("Less than a second ago", "3 seconds ago"), so
  // the header is checked by where each column starts in both lines, not by a fixed width.
  assert.match(lines[0], /^REPOSITORY {3}TAG {7}IMAGE ID {7}CREATED +SIZE$/);
  assert.match(lines[1], new RegExp(`^saluda       latest    ${id.slice(7, 19)}   .+ago\\s+20\\.5kB$`));
  const size = lines[0].indexOf('SIZE');
  assert.equal(lines[1].slice(size), '20.5kB');
  assert.match(lines[1].slice(0, size), / {3}$/);
});

test('tag adds a name; rmi of a name untags, of a multi-named id needs -f, then deletes', async () => {
  const { root, id } = await setup();
  assert.equal((await runCli(['tag', 'saluda', 'me/app:v1'], { root })).code, 0);
  const images = await runCli(['images'], { root });
  assert.match(images.stdout, /me\/app\s+v1\s+/);
  const conflict = await runCli(['rmi', id.slice(7, 19)], { root });
  assert.equal(conflict.code, 1);
  assert.match(conflict.stderr, /must be forced/);
  const untag = await runCli(['rmi', 'me/app:v1'], { root });
  assert.equal(untag.stdout, 'Untagged: me/app:v1\n');
  const del = await runCli(['rmi', 'saluda'], { root });
  assert.equal(del.stdout, `Untagged: saluda:latest\nDeleted: ${id}\n`);
  const none = await runCli(['rmi', 'saluda'], { root });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /No such image: saluda/);
  assert.doesNotMatch(none.stderr, /at .*\.js/);
});

test('rmi -f of an id with several names untags them all and deletes', async () => {
  const { root, id } = await setup();
  await runCli(['tag', 'saluda', 'two'], { root });
  const r = await runCli(['rmi', '-f', id.slice(7, 11)], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `Untagged: saluda:latest\nUntagged: two:latest\nDeleted: ${id}\n`);
  assert.equal((await runCli(['images', '-q'], { root })).stdout, '');
});

test('inspect prints a Docker-like JSON array; an unknown name exits 1', async () => {
  const { root, id } = await setup();
  const r = await runCli(['inspect', 'saluda'], { root });
  assert.equal(r.code, 0);
  const [img] = JSON.parse(r.stdout);
  assert.equal(img.Id, id);
  assert.deepEqual(img.RepoTags, ['saluda:latest']);
  assert.match(img.RepoDigests[0], /^saluda@sha256:[0-9a-f]{64}$/);
  assert.equal(img.Size, 20480);
  assert.equal(img.Os, 'linux');
  assert.equal(img.RootFS.Type, 'layers');
  const missing = await runCli(['inspect', 'nope'], { root });
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout.trim(), '[]');
  // Docker's text when no --type is given (inspect looks at containers too).
  assert.match(missing.stderr, /No such object: nope/);
});

test('history shows the top step with the image id', async () => {
  const { root, id } = await setup();
  const r = await runCli(['history', 'saluda'], { root });
  assert.equal(r.code, 0);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
  assert.match(lines[1], new RegExp(`^${id.slice(7, 19)}\\s+.+ago\\s+20\\.5kB\\s+Imported from -$`));
});

for (const format of ['docker', 'oci']) {
  test(`save --format ${format} -o FILE, then load -i FILE into another store`, async () => {
    const { root, work, id } = await setup();
    const archive = join(work, `${format}.tar`);
    const saved = await runCli(['save', '--format', format, '-o', archive, 'saluda'], { root });
    assert.equal(saved.code, 0, saved.stderr);
    const other = await tempDir();
    const loaded = await runCli(['load', '-i', archive], { root: other });
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.equal(loaded.stdout, 'Loaded image: saluda:latest\n');
    const inspect = JSON.parse((await runCli(['inspect', 'saluda'], { root: other })).stdout);
    assert.equal(inspect[0].Id, id);
  });
}

test('load from stdin; an image saved by id loads unnamed', async () => {
  const { root, work, id } = await setup();
  const archive = join(work, 'byid.tar');
  assert.equal((await runCli(['save', '-o', archive, id.slice(7, 19)], { root })).code, 0);
  const other = await tempDir();
  const loaded = await runCli(['load'], { root: other, input: await readFile(archive) });
  assert.equal(loaded.code, 0, loaded.stderr);
  assert.equal(loaded.stdout, `Loaded image ID: ${id}\n`);
  assert.match((await runCli(['images'], { root: other })).stdout, /<none>\s+<none>\s+/);
});

test('load of a tampered archive is refused with exit 1 and leaves the store empty', async () => {
  const { root, work } = await setup();
  const archive = join(work, 'a.tar');
  await runCli(['save', '-o', archive, 'saluda'], { root });
  const bytes = await readFile(archive);
  const at = bytes.indexOf(Buffer.alloc(64, 7)); // inside bin/tool's content
  bytes[at] = 8;
  await writeFile(archive, bytes);
  const other = await tempDir();
  const r = await runCli(['load', '-i', archive], { root: other });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /archive-tampered/);
  assert.deepEqual(await readdir(join(other, 'oci', 'blobs', 'sha256')), []);
});

test('fsck passes on a healthy store and fails (exit 1) on a corrupt blob', async () => {
  const { root, id } = await setup();
  const ok = await runCli(['fsck'], { root });
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /ok/);
  await writeFile(join(root, 'oci', 'blobs', 'sha256', id.slice(7)), '{"tampered":true}');
  const bad = await runCli(['fsck'], { root });
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /is corrupt/);
});

test('prune reports reclaimed space and keeps named images', async () => {
  const { root } = await setup();
  await runCli(['import', join(await tempDir(), 'missing.tar'), 'x'], { root });
  const work = await tempDir();
  await runCli(['import', await rootfsTar(work, 1000), 'gone'], { root });
  await runCli(['rmi', 'gone'], { root });
  const r = await runCli(['prune'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Total reclaimed space: [0-9.]+k?B\n$/);
  assert.equal((await runCli(['fsck'], { root })).code, 0);
  assert.match((await runCli(['images'], { root })).stdout, /saluda/);
});

test('usage mistakes exit 2; a non-tar import is a one-line error', async () => {
  const { root, work } = await setup();
  assert.equal((await runCli(['tag', 'only-one'], { root })).code, 2);
  assert.equal((await runCli(['save', '--format', 'zip', 'saluda'], { root })).code, 2);
  const junk = join(work, 'junk.txt');
  await writeFile(junk, 'this is not a tar archive at all, just some text that goes on for a while to fill a block');
  const r = await runCli(['import', junk, 'junk'], { root });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not a tar archive/);
  assert.doesNotMatch(r.stderr, /this is a bug/);
});
