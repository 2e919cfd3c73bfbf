import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { promisify } from 'node:util';
import { UserError } from '../../common/index.js';
import { importRootfs, loadArchive, openStore, saveImages, type SaveFormat, type Store } from '../../store/index.js';
import { tempDir } from '../helpers/temp.js';
import { makeTar } from './tar-fixture.js';

const exec = promisify(execFile);

async function storeWithImage(): Promise<{ store: Store; id: string }> {
  const store = await openStore(await tempDir());
  const tar = await makeTar([
    { name: 'bin/', type: 'directory' },
    { name: 'bin/hello', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
    { name: 'etc/', type: 'directory' },
    { name: 'etc/motd', content: 'welcome', mode: 0o600, uid: 12, gid: 34 },
  ]);
  const src = join(await tempDir(), 'rootfs.tar');
  await writeFile(src, tar);
  const img = await importRootfs(store, createReadStream(src), { names: ['saluda:1.0'] });
  return { store, id: img.id };
}

async function save(store: Store, refs: string[], format: SaveFormat): Promise<string> {
  const path = join(await tempDir(), `${format}.tar`);
  const out = createWriteStream(path);
  await saveImages(store, refs, out, { format });
  await finished(out);
  return path;
}

async function unpackTar(archive: string): Promise<string> {
  const dir = join(await tempDir(), 'x');
  await mkdir(dir);
  await exec('tar', ['-xf', archive, '-C', dir]);
  return dir;
}

async function repack(dir: string): Promise<string> {
  const path = join(await tempDir(), 'repacked.tar');
  await exec('tar', ['-cf', path, '-C', dir, '.']);
  return path;
}

test('save --format docker: manifest.json, repositories and an OCI layout, as Docker 25 writes', async () => {
  const { store, id } = await storeWithImage();
  const dir = await unpackTar(await save(store, ['saluda:1.0'], 'docker'));
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest[0].RepoTags, ['saluda:1.0']);
  assert.equal(manifest[0].Config, `blobs/sha256/${id.slice(7)}`);
  const repositories = JSON.parse(await readFile(join(dir, 'repositories'), 'utf8'));
  assert.ok(repositories.saluda['1.0']);
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
  assert.equal(index.manifests[0].annotations['io.containerd.image.name'], 'docker.io/library/saluda:1.0');
  assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], '1.0');
});

test('save --format oci: skopeo inspects it and umoci unpacks it with modes and owners intact', async () => {
  const { store, id } = await storeWithImage();
  const archive = await save(store, ['saluda:1.0'], 'oci');
  const config = JSON.parse((await exec('skopeo', ['inspect', '--config', `oci-archive:${archive}:1.0`])).stdout);
  assert.deepEqual(config.rootfs.diff_ids.length, 1);
  const layout = await unpackTar(archive);
  const bundle = join(await tempDir(), 'bundle');
  await exec('umoci', ['unpack', '--image', `${layout}:1.0`, bundle]);
  assert.equal(await readFile(join(bundle, 'rootfs', 'etc', 'motd'), 'utf8'), 'welcome');
  const { stdout } = await exec('stat', ['-c', '%a %u %g', join(bundle, 'rootfs', 'etc', 'motd')]);
  assert.equal(stdout.trim(), process.getuid?.() === 0 ? '600 12 34' : stdout.trim());
  const manifest = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  assert.equal(manifest.manifests[0].annotations['io.containerd.image.name'], 'docker.io/library/saluda:1.0');
  // the image id survives: the config blob is the stored one
  assert.ok((await readdir(join(layout, 'blobs', 'sha256'))).includes(id.slice(7)));
});

test('save --format oci is deterministic: the same image gives the same bytes', async () => {
  const { store } = await storeWithImage();
  const a = await readFile(await save(store, ['saluda:1.0'], 'oci'));
  const b = await readFile(await save(store, ['saluda:1.0'], 'oci'));
  assert.ok(a.equals(b));
});

for (const format of ['docker', 'oci'] as const) {
  test(`load of a ${format} archive into an empty store keeps the image id and the name`, async () => {
    const { store, id } = await storeWithImage();
    const archive = await save(store, ['saluda:1.0'], format);
    const fresh = await openStore(await tempDir());
    const loaded = await loadArchive(fresh, createReadStream(archive));
    assert.deepEqual(loaded, [{ id, names: ['docker.io/library/saluda:1.0'] }]);
    const img = await fresh.resolveImage('saluda:1.0');
    assert.equal(img?.id, id);
    const dir = await fresh.layerDir(img!.config.rootfs.diff_ids[0], img!.manifest.layers[0]);
    assert.equal(await readFile(join(dir, 'etc', 'motd'), 'utf8'), 'welcome');
  });
}

test('several images in one archive', async () => {
  const { store, id } = await storeWithImage();
  const other = await importRootfs(store, (await import('node:stream')).Readable.from([await makeTar([{ name: 'o', content: 'o' }])]), {
    names: ['other:2'],
  });
  const archive = await save(store, ['saluda:1.0', 'other:2'], 'docker');
  const fresh = await openStore(await tempDir());
  const loaded = await loadArchive(fresh, createReadStream(archive));
  assert.deepEqual(loaded.map((l) => l.id).sort(), [id, other.id].sort());
});

async function tamper(format: SaveFormat, edit: (dir: string) => Promise<void>) {
  const { store } = await storeWithImage();
  const dir = await unpackTar(await save(store, ['saluda:1.0'], format));
  await edit(dir);
  const fresh = await openStore(await tempDir());
  await assert.rejects(loadArchive(fresh, createReadStream(await repack(dir))), (e: unknown) => e instanceof UserError && e.code === 'archive-tampered');
  assert.deepEqual(await fresh.listImages(), []);
  assert.deepEqual(await readdir(join(fresh.root, 'oci', 'blobs', 'sha256')), [], 'nothing was written');
}

/** The layer blob (the biggest file) of an unpacked archive. */
async function biggestBlob(dir: string): Promise<string> {
  const blobs = join(dir, 'blobs', 'sha256');
  let best = '';
  let size = -1;
  for (const n of await readdir(blobs)) {
    const s = (await readFile(join(blobs, n))).length;
    if (s > size) [best, size] = [n, s];
  }
  return join(blobs, best);
}

test('load refuses a docker archive whose layer was modified, and writes nothing', async () => {
  await tamper('docker', async (dir) => {
    const layer = await biggestBlob(dir);
    const bytes = await readFile(layer);
    bytes[bytes.indexOf('welcome')] = 'W'.charCodeAt(0);
    await writeFile(layer, bytes);
  });
});

test('load refuses an OCI archive whose config was modified, and writes nothing', async () => {
  await tamper('oci', async (dir) => {
    const blobs = join(dir, 'blobs', 'sha256');
    for (const n of await readdir(blobs)) {
      const text = await readFile(join(blobs, n), 'utf8').catch(() => '');
      if (text.includes('"rootfs"')) await writeFile(join(blobs, n), text.replace('"amd64"', '"arm64"'));
    }
  });
});

test('load names an OCI image from io.containerd.image.name, else a full ref.name; a bare tag loads it unnamed', async () => {
  const { store, id } = await storeWithImage();
  const dir = await unpackTar(await save(store, ['saluda:1.0'], 'oci'));
  const indexPath = join(dir, 'index.json');
  const index = JSON.parse(await readFile(indexPath, 'utf8'));
  const cases: [Record<string, string>, string[]][] = [
    [{ 'io.containerd.image.name': 'docker.io/me/x:3', 'org.opencontainers.image.ref.name': '3' }, ['docker.io/me/x:3']],
    [{ 'org.opencontainers.image.ref.name': 'example.com/y:4' }, ['example.com/y:4']],
    [{ 'org.opencontainers.image.ref.name': 'latest' }, []],
  ];
  for (const [annotations, names] of cases) {
    index.manifests[0].annotations = annotations;
    await writeFile(indexPath, JSON.stringify(index));
    const fresh = await openStore(await tempDir());
    assert.deepEqual(await loadArchive(fresh, createReadStream(await repack(dir))), [{ id, names }]);
  }
});

test('load of something that is not an image archive is a clear error', async () => {
  const fresh = await openStore(await tempDir());
  const junk = join(await tempDir(), 'junk.tar');
  await writeFile(junk, await makeTar([{ name: 'hello.txt', content: 'hi' }]));
  await assert.rejects(loadArchive(fresh, createReadStream(junk)), (e: unknown) => e instanceof UserError && e.code === 'bad-archive');
});
