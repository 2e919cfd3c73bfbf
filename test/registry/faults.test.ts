import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { digestOf, type Digest } from '../../common/index.js';
import { MediaType, openStore, type Store } from '../../store/index.js';
import { pullImage, type RetryPolicy } from '../../registry/index.js';
import { freePort } from '../helpers/registry-server.js';
import { layerTar, seededBytes } from './image-fixture.js';

/**
 * Faults the real registry cannot produce, from a small fake registry serving one image:
 * a corrupted byte, a connection dropped mid-blob (with and without Range support), 500
 * then 200, 429 with Retry-After, a config whose diff_id lies, an index with platforms.
 */

type Fault = 'none' | 'corrupt' | 'drop' | 'drop-ignore-range' | 'manifest-500' | 'layer-429' | 'bad-diffid';

const fast: RetryPolicy = { attempts: 4, baseDelayMs: 10, maxDelayMs: 2000 };

let server: Server;
let host: string;
let fault: Fault = 'none';
let log: { method: string; path: string; range?: string; at: number }[] = [];
const served = new Map<string, number>();

let tar: Buffer;
let gz: Buffer;
let layerDigest: Digest;
let config: Buffer;
let badConfig: Buffer;
let manifest: Buffer;
let badManifest: Buffer;
let index: Buffer;

function makeManifest(cfg: Buffer): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.manifest,
      config: { mediaType: MediaType.config, digest: digestOf(cfg), size: cfg.length },
      layers: [{ mediaType: MediaType.layerGzip, digest: layerDigest, size: gz.length }],
    }),
  );
}

// Indented, keys in an order JSON.stringify of the parsed object would not keep byte for
// byte: the image id must still be the digest of these bytes.
function makeConfig(diffId: string): Buffer {
  return Buffer.from(`{\n  "os": "linux",\n  "architecture": "amd64",\n  "rootfs": {"type": "layers", "diff_ids": ["${diffId}"]},\n  "config": {}\n}\n`);
}

function first(key: string): boolean {
  const n = served.get(key) ?? 0;
  served.set(key, n + 1);
  return n === 0;
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '/';
  log.push({ method: req.method ?? '', path, range: req.headers.range, at: Date.now() });
  if (path === '/v2/') return void res.writeHead(200).end('{}');
  const m = /^\/v2\/fake\/app\/(manifests|blobs)\/(.+)$/.exec(path);
  if (!m) return void res.writeHead(404).end();
  if (m[1] === 'manifests') {
    if (fault === 'manifest-500' && first('manifest')) return void res.writeHead(500).end('boom');
    const body =
      m[2] === 'multi' ? index : m[2] === 'latest' || m[2] === digestOf(manifest) ? (fault === 'bad-diffid' ? badManifest : manifest) : undefined;
    if (!body) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
    const type = body === index ? MediaType.index : MediaType.manifest;
    return void res.writeHead(200, { 'content-type': type, 'docker-content-digest': digestOf(body), 'content-length': body.length }).end(body);
  }
  const blobs = new Map<string, Buffer>([
    [digestOf(config), config],
    [digestOf(badConfig), badConfig],
    [layerDigest, gz],
  ]);
  const blob = blobs.get(m[2]);
  if (!blob) return void res.writeHead(404).end();
  const isLayer = m[2] === layerDigest;
  if (isLayer && fault === 'layer-429' && first('429')) return void res.writeHead(429, { 'retry-after': '1' }).end();
  if (isLayer && fault === 'corrupt') {
    const bad = Buffer.from(blob);
    bad[bad.length >> 1] ^= 0xff;
    return void res.writeHead(200, { 'content-length': bad.length }).end(bad);
  }
  if (isLayer && (fault === 'drop' || fault === 'drop-ignore-range') && first('drop')) {
    res.writeHead(200, { 'content-length': blob.length });
    res.write(blob.subarray(0, blob.length >> 1), () => setTimeout(() => req.socket.destroy(), 20));
    return;
  }
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (range && fault !== 'drop-ignore-range') {
    const start = Number(range[1]);
    return void res
      .writeHead(206, { 'content-length': blob.length - start, 'content-range': `bytes ${start}-${blob.length - 1}/${blob.length}` })
      .end(blob.subarray(start));
  }
  res.writeHead(200, { 'content-length': blob.length }).end(blob);
}

before(async () => {
  tar = await layerTar({ 'big/file': seededBytes(9, 300_000), 'etc/x': 'x\n' });
  gz = gzipSync(tar);
  layerDigest = digestOf(gz);
  config = makeConfig(digestOf(tar));
  badConfig = makeConfig(digestOf('something else'));
  manifest = makeManifest(config);
  badManifest = makeManifest(badConfig);
  const entry = (arch: string, variant?: string) => ({
    mediaType: MediaType.manifest,
    digest: digestOf(manifest),
    size: manifest.length,
    platform: { os: 'linux', architecture: arch, ...(variant ? { variant } : {}) },
  });
  index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.index, manifests: [entry('arm64', 'v8'), entry('amd64')] }));
  const port = await freePort();
  server = createServer(handle);
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  host = `127.0.0.1:${port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

beforeEach(() => {
  fault = 'none';
  log = [];
  served.clear();
});

// One temp dir for the whole file, removed at its end: a store's lease file may still be
// in flight (store/index.ts starts it without awaiting) when a pull fails fast.
let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'tsbuild-faults-'));
});
after(async () => {
  if (!process.env.KEEP_TEST_OUTPUT) await rm(work, { recursive: true, force: true });
});

async function freshStore(): Promise<Store> {
  return openStore(await mkdtemp(join(work, 'store-')));
}

async function assertNothingStored(store: Store): Promise<void> {
  assert.equal(await store.hasBlob(layerDigest), false, 'layer blob must not be stored');
  assert.equal(await store.hasBlob(digestOf(tar)), false, 'no uncompressed copy either');
  assert.deepEqual(await readdir(`${store.root}/tmp`), [], 'no temp file left behind');
}

test('a corrupted byte in a layer is refused and nothing is stored', async () => {
  fault = 'corrupt';
  const store = await freshStore();
  await assert.rejects(pullImage(store, `${host}/fake/app`, { retry: fast }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'digest-mismatch');
    assert.match(e.message, new RegExp(`expected ${layerDigest}`));
    return true;
  });
  await assertNothingStored(store);
  assert.equal(await store.resolveImage(`${host}/fake/app`), undefined);
});

test('a config whose diff_id does not match the layer content is refused', async () => {
  fault = 'bad-diffid';
  const store = await freshStore();
  await assert.rejects(pullImage(store, `${host}/fake/app`, { retry: fast }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'diffid-mismatch');
    assert.equal(e.message, `layer ${layerDigest} does not unpack to the image config's diff_id ${digestOf('something else')}`);
    return true;
  });
  await assertNothingStored(store);
});

test('a connection dropped mid-blob is resumed with a Range request', async () => {
  fault = 'drop';
  const store = await freshStore();
  const img = await pullImage(store, `${host}/fake/app`, { retry: fast });
  assert.equal(img.id, digestOf(config));
  const gets = log.filter((l) => l.path.endsWith(layerDigest));
  assert.equal(gets.length, 2);
  assert.match(gets[1].range ?? '', /^bytes=\d+-$/);
  assert.ok(await store.hasBlob(digestOf(tar)), 'the layer is stored, uncompressed');
});

test('a resumed transfer from a server that ignores Range still stores exact bytes', async () => {
  fault = 'drop-ignore-range';
  const store = await freshStore();
  const img = await pullImage(store, `${host}/fake/app`, { retry: fast });
  assert.equal(img.id, digestOf(config));
  assert.ok(await store.hasBlob(digestOf(tar)));
});

test('the image id is the digest of the config bytes as the registry sent them', async () => {
  const store = await freshStore();
  const img = await pullImage(store, `${host}/fake/app`, { retry: fast });
  assert.equal(img.id, digestOf(config));
  assert.deepEqual(await store.readBlob(img.id), config);
  assert.equal((await store.resolveImage(`${host}/fake/app:latest`))?.id, digestOf(config));
});

test('a 500 then 200 is retried', async () => {
  fault = 'manifest-500';
  const store = await freshStore();
  const img = await pullImage(store, `${host}/fake/app`, { retry: fast });
  assert.equal(img.id, digestOf(config));
  assert.equal(log.filter((l) => l.path.includes('/manifests/')).length, 2);
});

test('a 429 is retried after the Retry-After it gives', async () => {
  fault = 'layer-429';
  const store = await freshStore();
  await pullImage(store, `${host}/fake/app`, { retry: fast });
  const gets = log.filter((l) => l.path.endsWith(layerDigest));
  assert.equal(gets.length, 2);
  assert.ok(gets[1].at - gets[0].at >= 900, `waited ${gets[1].at - gets[0].at} ms, Retry-After said 1 s`);
});

test('an index is narrowed to linux/amd64 by default, or to --platform', async () => {
  const store = await freshStore();
  const img = await pullImage(store, `${host}/fake/app:multi`, { retry: fast, platform: 'linux/arm64' });
  assert.equal(img.id, digestOf(config));
  await assert.rejects(pullImage(store, `${host}/fake/app:multi`, { retry: fast, platform: 'linux/s390x' }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'no-matching-platform');
    assert.match(e.message, /linux\/s390x.*available: linux\/arm64\/v8, linux\/amd64/);
    return true;
  });
  await assert.rejects(pullImage(store, `${host}/fake/app:latest`, { retry: fast, platform: 'linux/arm64' }), {
    message: `image with reference ${host}/fake/app:latest was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64`,
  });
  const lines: string[] = [];
  await pullImage(store, `${host}/fake/app:multi`, { retry: fast, progress: (l) => lines.push(l) });
  assert.ok(lines.includes(`Digest: ${digestOf(index)}`), lines.join('\n'));
});

test('an unknown manifest and an unreachable registry give clear messages', async () => {
  const store = await freshStore();
  await assert.rejects(pullImage(store, `${host}/fake/app:gone`, { retry: fast }), {
    message: `manifest for ${host}/fake/app:gone not found: manifest unknown`,
  });
  const dead = `127.0.0.1:${await freePort()}`;
  await assert.rejects(pullImage(store, `${dead}/x/y`, { retry: fast }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'registry-unreachable');
    assert.match(e.message, new RegExp(`cannot reach registry ${dead.replace(/\./g, '\\.')}: ECONNREFUSED`));
    return true;
  });
});
