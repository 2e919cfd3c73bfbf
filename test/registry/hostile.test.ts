import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { digestOf, hexOf, type Digest } from '../../common/index.js';
import { MediaType } from '../../store/index.js';
import { runCli } from '../../cli/tsbuild.js';
import { startHostileRegistry, type HostileRegistry, type RegistryFault } from '../helpers/hostile-registry.js';
import { tempDir } from '../helpers/temp.js';
import { runCliWatched, type WatchedResult } from '../helpers/watched-cli.js';
import { layerTar, seededBytes } from './image-fixture.js';

// Issue 16, promise 5: a hostile registry (test/helpers/hostile-registry.py, 127.0.0.1 only)
// gets a clear error from `tsbuild pull`, in bounded memory (the peak RSS of the tsbuild
// process, from /proc) and bounded time, and leaves a store fsck finds clean:
// - a manifest that never ends: refused past 4 MiB, containerd's MaxManifestSize
//   (core/remotes/docker/resolver.go), which Docker's pulls go through;
// - a manifest or a layer dripped one byte at a time: `registry too slow` at the total
//   deadline (TSBUILD_REGISTRY_TIMEOUT), though no idle timeout ever fires;
// - a layer longer than its descriptor says (a 10 TB Content-Length, or chunked bytes that
//   keep coming): cut off and refused, nothing stored;
// - the poisoned diff_id: a config naming a diff_id the store has next to an attacker's
//   blob; a later push must not cross-mount that blob for the layer.

const MEMORY_BOUND = 256 << 20;

let registry: HostileRegistry;
let work: string;
let root: string;

interface Image {
  manifest: Buffer;
  layerBlob: Digest;
  diffId: Digest;
}

/** An image of one gzip layer holding `files` in `repo`; `claimDiffId` puts another diff_id in its config. */
async function addImage(repo: string, files: Record<string, string | Buffer>, claimDiffId?: Digest): Promise<Image> {
  const tar = await layerTar(files);
  const gz = gzipSync(tar);
  const diffId = claimDiffId ?? digestOf(tar);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [diffId] } }));
  const layerBlob = await registry.addBlob(repo, gz);
  await registry.addBlob(repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.manifest,
      config: { mediaType: MediaType.config, digest: digestOf(config), size: config.length },
      layers: [{ mediaType: MediaType.layerGzip, digest: layerBlob, size: gz.length }],
    }),
  );
  await registry.addManifest(repo, 'latest', manifest);
  return { manifest, layerBlob, diffId };
}

async function faultyImage(repo: string, fault: RegistryFault, seed: number): Promise<Image> {
  const img = await addImage(repo, { 'data/bytes': seededBytes(seed, 40_000) });
  await registry.setFault(repo, fault);
  return img;
}

function pull(repo: string, env: NodeJS.ProcessEnv = {}): Promise<WatchedResult> {
  return runCliWatched(['pull', `${registry.host}/${repo}`], { root, env, killAfterMs: 90_000 });
}

function assertBounded(r: WatchedResult, t: { diagnostic(s: string): void }): void {
  t.diagnostic(`peak RSS ${(r.peakRssBytes / (1 << 20)).toFixed(0)} MiB`);
  assert.equal(r.wasKilled, false, 'tsbuild ended by itself');
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.peakRssBytes > 0 && r.peakRssBytes < MEMORY_BOUND, `peak RSS ${r.peakRssBytes >> 20} MiB`);
  assert.doesNotMatch(r.stderr, /this is a bug/);
}

async function assertNothingOf(img: Image): Promise<void> {
  const blobs = await readdir(join(root, 'oci', 'blobs', 'sha256'));
  assert.ok(!blobs.includes(hexOf(img.diffId)) && !blobs.includes(hexOf(img.layerBlob)), 'no layer blob is stored');
  assert.deepEqual(await readdir(join(root, 'tmp')), [], 'no temp file is left');
}

before(async () => {
  work = await tempDir();
  root = join(work, 'root');
  registry = await startHostileRegistry(join(work, 'registry'));
});

after(async () => {
  await registry?.stop();
});

test('an endless manifest is refused past 4 MiB, in bounded memory', async (t) => {
  await registry.setFault('endless', 'endless-manifest');
  const r = await pull('endless');
  assertBounded(r, t);
  assert.match(r.stderr, new RegExp(`manifest for ${registry.host.replace(/\./g, '\\.')}/endless:latest is larger than 4 MiB`));
});

test('a manifest dripped one byte at a time ends in "registry too slow" at the configured deadline', async (t) => {
  await addImage('drip', { 'data/x': 'x' });
  await registry.setFault('drip', 'drip-manifest');
  const r = await pull('drip', { TSBUILD_REGISTRY_TIMEOUT: '2' });
  assertBounded(r, t);
  assert.match(r.stderr, /registry too slow: 127\.0\.0\.1:\d+ did not finish GET \/v2\/drip\/manifests\/latest within 2 s/);
  assert.match(r.stderr, /TSBUILD_REGISTRY_TIMEOUT/);
});

test('a layer dripped one byte at a time ends in "registry too slow", nothing stored', async (t) => {
  const img = await faultyImage('dripblob', 'drip-blob', 3);
  const r = await pull('dripblob', { TSBUILD_REGISTRY_TIMEOUT: '2' });
  assertBounded(r, t);
  assert.match(r.stderr, new RegExp(`registry too slow: 127\\.0\\.0\\.1:\\d+ did not finish GET /v2/dripblob/blobs/${img.layerBlob} within 2 s`));
  await assertNothingOf(img);
});

test('a layer announced with a 10 TB Content-Length is refused before it is read, nothing stored', async (t) => {
  const img = await faultyImage('huge', 'huge-length-blob', 4);
  const r = await pull('huge');
  assertBounded(r, t);
  assert.match(r.stderr, new RegExp(`blob ${img.layerBlob} is longer than the \\d+ bytes its descriptor gives: it was cut off and refused`));
  await assertNothingOf(img);
});

test('a chunked layer that goes on past its descriptor size is cut off and refused, nothing stored', async (t) => {
  const img = await faultyImage('overlong', 'overlong-blob', 5);
  const r = await pull('overlong');
  assertBounded(r, t);
  assert.match(r.stderr, new RegExp(`blob ${img.layerBlob} is longer than the \\d+ bytes its descriptor gives`));
  await assertNothingOf(img);
});

test('after the hostile pulls the store is consistent: fsck finds nothing', async () => {
  const r = await runCli(['fsck'], { root });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /: ok$/m);
});

/** The layer blobs of the manifest pushed as `repo:tag`, each gunzipped and hashed. */
async function pushedLayers(repo: string, tag: string): Promise<{ blob: string; content: Digest }[]> {
  const res = await fetch(`http://${registry.host}/v2/${repo}/manifests/${tag}`);
  assert.equal(res.status, 200);
  const manifest = (await res.json()) as { layers: { digest: string }[] };
  const out = [];
  for (const l of manifest.layers) {
    const blob = Buffer.from(await (await fetch(`http://${registry.host}/v2/${repo}/blobs/${l.digest}`)).arrayBuffer());
    assert.equal(digestOf(blob), l.digest, 'the registry serves what the manifest names');
    out.push({ blob: l.digest, content: digestOf(gunzipSync(blob)) });
  }
  return out;
}

test('the poisoned diff_id: a layer already in the store is never pushed as the blob a config paired it with', async () => {
  const files = { 'bin/tool': seededBytes(11, 30_000) };
  const good = await addImage('good', files);
  // Another image claims the same diff_id with a blob of other content: the attacker's layer.
  const evil = await addImage('poisoned', { 'bin/tool': 'attacker\n' }, good.diffId);
  assert.notEqual(evil.layerBlob, good.layerBlob);
  const asked = (img: Image) => async () => (await registry.requests()).filter((q) => q.path.includes(hexOf(img.layerBlob)));

  // Case 1, the issue's: the layer came from a registry (FROM busybox), then the poisoned image is pulled.
  const store1 = join(work, 'poison-1');
  assert.equal((await runCli(['pull', `${registry.host}/good`], { root: store1 })).code, 0);
  const pulled = await runCli(['pull', `${registry.host}/poisoned`], { root: store1 });
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.match(pulled.stderr + pulled.stdout, /Already exists/);
  assert.equal((await runCli(['tag', `${registry.host}/poisoned`, `${registry.host}/mine:1`], { root: store1 })).code, 0);
  const pushed = await runCli(['push', `${registry.host}/mine:1`], { root: store1 });
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.deepEqual(await pushedLayers('mine', '1'), [{ blob: good.layerBlob, content: good.diffId }], 'the verified blob (mounted from good), not the attacker’s');
  assert.deepEqual(await asked(evil)(), [], 'the attacker’s blob was never asked for, mounted or HEADed');

  // Case 2: the layer came from an archive (no compressed form known), and a record written
  // by an older tsbuild already names the attacker's blob for it.
  const store2 = join(work, 'poison-2');
  const archive = join(work, 'good.tar');
  assert.equal((await runCli(['save', '-o', archive, `${registry.host}/good`], { root: store1 })).code, 0);
  assert.equal((await runCli(['load', '-i', archive], { root: store2 })).code, 0);
  await mkdir(join(store2, 'registry', 'compressed'), { recursive: true });
  await writeFile(
    join(store2, 'registry', 'compressed', `${hexOf(good.diffId)}.json`),
    JSON.stringify({ digest: evil.layerBlob, size: 1, mediaType: MediaType.layerGzip, knownIn: [`${registry.host}/poisoned`] }),
  );
  assert.equal((await runCli(['pull', `${registry.host}/poisoned`], { root: store2 })).code, 0);
  assert.equal((await runCli(['tag', `${registry.host}/poisoned`, `${registry.host}/mine2:1`], { root: store2 })).code, 0);
  const pushed2 = await runCli(['push', `${registry.host}/mine2:1`], { root: store2 });
  assert.equal(pushed2.code, 0, pushed2.stderr);
  assert.match(pushed2.stderr + pushed2.stdout, /Pushed/, 'the locally verified content is uploaded');
  const layers2 = await pushedLayers('mine2', '1');
  assert.equal(layers2.length, 1);
  assert.equal(layers2[0].content, good.diffId, 'what was pushed unpacks to the layer the image has');
  assert.deepEqual(await asked(evil)(), [], 'the old record was not used');

  for (const r of [store1, store2]) assert.equal((await runCli(['fsck'], { root: r })).code, 0);
});
