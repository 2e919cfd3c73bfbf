import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { openStore, type Store } from '../../store/index.js';
import { pullImage, pushImage, repoDigestsOf } from '../../registry/index.js';
import { tempDir } from '../helpers/temp.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { seededBytes, writeTestImage } from './image-fixture.js';

const exec = promisify(execFile);

let registry: RegistryServer;
before(async () => {
  registry = await startRegistry();
});
after(async () => {
  await registry?.stop();
});

async function freshStore(): Promise<Store> {
  return openStore(await tempDir('tsbuild-registry-store-'));
}

function collect(): { lines: string[]; progress: (l: string) => void } {
  const lines: string[] = [];
  return { lines, progress: (l) => lines.push(l) };
}

const layersOf = (seed: number): Record<string, string | Buffer>[] => [
  { 'etc/hello': `hello ${seed}\n`, 'bin/blob': seededBytes(seed, 40_000) },
  { 'app/data.txt': 'x'.repeat(10_000) + String(seed) },
];

test('push then pull into an empty store gives the same image id', async () => {
  const a = await freshStore();
  const img = await writeTestImage(a, `${registry.host}/demo/app:1`, layersOf(1));
  const pushed = collect();
  const res = await pushImage(a, `${registry.host}/demo/app:1`, { progress: pushed.progress });
  assert.ok(pushed.lines.includes(`The push refers to repository [${registry.host}/demo/app]`));
  assert.equal(pushed.lines.filter((l) => l.endsWith(': Pushed')).length, 2, pushed.lines.join('\n'));
  assert.ok(pushed.lines.at(-1)!.startsWith(`1: digest: ${res.manifestDigest} size: `));

  const b = await freshStore();
  const pulled = collect();
  const got = await pullImage(b, `${registry.host}/demo/app:1`, { progress: pulled.progress });
  assert.equal(got.id, img.id);
  assert.deepEqual(got.config.rootfs.diff_ids, img.config.rootfs.diff_ids);
  assert.equal(pulled.lines[0], '1: Pulling from demo/app');
  assert.equal(pulled.lines.filter((l) => l.endsWith(': Pull complete')).length, 2);
  assert.ok(pulled.lines.includes(`Digest: ${res.manifestDigest}`));
  assert.equal(pulled.lines.at(-1), `Status: Downloaded newer image for ${registry.host}/demo/app:1`);
  const again = await b.resolveImage(`${registry.host}/demo/app:1`);
  assert.equal(again?.id, img.id);
  for (const l of got.manifest.layers) assert.ok(await b.hasBlob(l.digest));
  assert.deepEqual(await repoDigestsOf(b, got.id), [`${registry.host}/demo/app@${res.manifestDigest}`]);
  // The store's layer extraction reads the pulled (gzip) blobs.
  const dir = await b.layerDir(got.config.rootfs.diff_ids[0], got.manifest.layers[0]);
  const { readFile } = await import('node:fs/promises');
  assert.equal(await readFile(`${dir}/etc/hello`, 'utf8'), 'hello 1\n');

  const second = collect();
  await pullImage(b, `${registry.host}/demo/app:1`, { progress: second.progress });
  assert.equal(second.lines.filter((l) => l.endsWith(': Already exists')).length, 2, second.lines.join('\n'));
  assert.equal(second.lines.at(-1), `Status: Image is up to date for ${registry.host}/demo/app:1`);

  // Pulled layers are kept as tars; pushing them to another repository mounts the
  // registry's own blobs instead of compressing and uploading again.
  const { readdir } = await import('node:fs/promises');
  const blobsBefore = (await readdir(`${b.root}/oci/blobs/sha256`)).sort();
  await b.tag(got.id, `${registry.host}/elsewhere/app:1`);
  const mounted = collect();
  const pushedAgain = await pushImage(b, `${registry.host}/elsewhere/app:1`, { progress: mounted.progress });
  assert.equal(mounted.lines.filter((l) => l.endsWith(': Mounted from demo/app')).length, 2, mounted.lines.join('\n'));
  assert.equal(pushedAgain.manifestDigest, res.manifestDigest, 'same blobs, same manifest');
  assert.deepEqual((await readdir(`${b.root}/oci/blobs/sha256`)).sort(), blobsBefore, 'nothing compressed');
});

test('skopeo inspect agrees on the manifest digest of a pushed image', async () => {
  const a = await freshStore();
  await writeTestImage(a, `${registry.host}/demo/skopeo:v1`, layersOf(2));
  const res = await pushImage(a, `${registry.host}/demo/skopeo:v1`);
  const { stdout } = await exec('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.host}/demo/skopeo:v1`]);
  const info = JSON.parse(stdout) as { Digest: string; Layers: string[] };
  assert.equal(info.Digest, res.manifestDigest);
  assert.equal(info.Layers.length, 2);
});

test('a second push skips every blob and compresses nothing again; another repo mounts them', async () => {
  const a = await freshStore();
  await writeTestImage(a, `${registry.host}/demo/again:1`, layersOf(3));
  const first = await pushImage(a, `${registry.host}/demo/again:1`);
  const { readdir } = await import('node:fs/promises');
  const blobsBefore = (await readdir(`${a.root}/oci/blobs/sha256`)).sort();
  const lines = collect();
  const second = await pushImage(a, `${registry.host}/demo/again:1`, { progress: lines.progress });
  assert.equal(second.manifestDigest, first.manifestDigest, 'same gzip bytes, same manifest');
  assert.equal(lines.lines.filter((l) => l.endsWith(': Layer already exists')).length, 2, lines.lines.join('\n'));
  assert.deepEqual((await readdir(`${a.root}/oci/blobs/sha256`)).sort(), blobsBefore);

  await a.tag((await a.resolveImage(`${registry.host}/demo/again:1`))!.id, `${registry.host}/other/copy:1`);
  const mounted = collect();
  const third = await pushImage(a, `${registry.host}/other/copy:1`, { progress: mounted.progress });
  assert.equal(third.manifestDigest, first.manifestDigest);
  assert.equal(mounted.lines.filter((l) => l.endsWith(': Mounted from demo/again')).length, 2, mounted.lines.join('\n'));
});

test('chunked upload (PATCH chunks then PUT) round-trips', async () => {
  const a = await freshStore();
  const img = await writeTestImage(a, `${registry.host}/demo/chunked:1`, layersOf(4));
  await pushImage(a, `${registry.host}/demo/chunked:1`, { chunkSizeBytes: 8 * 1024 });
  const b = await freshStore();
  const got = await pullImage(b, `${registry.host}/demo/chunked:1`);
  assert.equal(got.id, img.id);
});

test('pull by digest, and an unknown tag is "manifest unknown"', async () => {
  const a = await freshStore();
  const img = await writeTestImage(a, `${registry.host}/demo/bydigest:1`, layersOf(5));
  const { manifestDigest } = await pushImage(a, `${registry.host}/demo/bydigest:1`);
  const b = await freshStore();
  const got = await pullImage(b, `${registry.host}/demo/bydigest@${manifestDigest}`);
  assert.equal(got.id, img.id);
  await assert.rejects(pullImage(b, `${registry.host}/demo/bydigest:nope`), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'manifest-unknown');
    assert.equal(e.message, `manifest for ${registry.host}/demo/bydigest:nope not found: manifest unknown`);
    return true;
  });
});

for (const compress of ['gzip', 'zstd'] as const) {
  test(`an image pushed by skopeo copy (${compress} layers) is pulled with the same image id`, async () => {
    const a = await freshStore();
    const name = `${registry.host}/skopeo/${compress}:1`;
    const img = await writeTestImage(a, 'docker.io/library/fromskopeo:latest', layersOf(compress === 'gzip' ? 6 : 7));
    await exec('skopeo', [
      'copy',
      '--dest-tls-verify=false',
      '--dest-compress',
      '--dest-compress-format',
      compress,
      `oci:${a.root}/oci:docker.io/library/fromskopeo:latest`,
      `docker://${name}`,
    ]);
    const { stdout } = await exec('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${name}`]);
    const remote = JSON.parse(stdout) as { layers: { mediaType: string }[] };
    assert.ok(remote.layers.every((l) => l.mediaType.endsWith(`+${compress}`)), stdout);
    const b = await freshStore();
    const got = await pullImage(b, name);
    assert.equal(got.id, img.id);
    // Layers are kept uncompressed: the local manifest is the one the pusher's store has.
    assert.deepEqual(got.manifest.layers.map((l) => l.digest), img.config.rootfs.diff_ids);
    assert.equal(got.manifestDigest, img.manifestDigest);
  });
}
