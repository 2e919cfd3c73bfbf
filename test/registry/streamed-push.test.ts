import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import { digestOf, type Digest } from '../../common/index.js';
import { MediaType, openStore, type Store } from '../../store/index.js';
import { pullImage, pushImage } from '../../registry/index.js';
import { tempDir } from '../helpers/temp.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { seededBytes, writeTestImage } from './image-fixture.js';

/**
 * A layer compressed during a push goes to the registry while it is compressed: one PATCH
 * whose body streams (no Content-Length), then the PUT with the digest (distribution spec,
 * "chunked upload"; docker/distribution's registry/handlers/blobupload.go takes a PATCH
 * without Content-Range as a stream, as `docker push` sends it). Seen through a proxy in
 * front of the real registry, which can also drop that stream halfway.
 */

let registry: RegistryServer;
let proxy: Server;
let host: string;
let log: { method: string; path: string; isStreamed: boolean }[] = [];
let dropStreamedPatches = 0;

before(async () => {
  registry = await startRegistry();
  proxy = createServer((req, res) => {
    const isStreamed = req.method === 'PATCH' && req.headers['content-length'] === undefined;
    log.push({ method: req.method!, path: req.url!, isStreamed });
    const upstream = request({ host: '127.0.0.1', port: registry.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode!, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    if (isStreamed) {
      // Layers are pushed in parallel: only a stream that gets past 1 MiB is dropped, the
      // small layer's goes through (dropping it before its end would leave it waiting).
      let seen = 0;
      req.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        // Halfway through the layer: the connection goes, the registry's session stays open.
        if (seen > 1 << 20 && dropStreamedPatches > 0) {
          dropStreamedPatches--;
          upstream.destroy();
          req.socket.destroy();
        }
      });
    }
    req.pipe(upstream);
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  const addr = proxy.address();
  host = `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
after(async () => {
  proxy?.close();
  await registry?.stop();
});

async function freshStore(): Promise<Store> {
  return openStore(await tempDir('tsbuild-streamed-push-'));
}

// Random bytes compress to about themselves: several 1 MiB chunks per layer.
const layers: Record<string, string | Buffer>[] = [{ 'bin/big': seededBytes(7, 3 << 20) }, { 'etc/small': 'small\n' }];

async function servedLayers(repo: string): Promise<{ digest: Digest; bytes: Buffer }[]> {
  const m = await fetch(`http://${registry.host}/v2/${repo}/manifests/1`, { headers: { accept: MediaType.manifest } });
  const manifest = (await m.json()) as { layers: { digest: Digest }[] };
  const out = [];
  for (const l of manifest.layers) {
    const res = await fetch(`http://${registry.host}/v2/${repo}/blobs/${l.digest}`);
    out.push({ digest: l.digest, bytes: Buffer.from(await res.arrayBuffer()) });
  }
  return out;
}

test('a layer compressed during push is streamed in one PATCH, kept in the store, and pulls back', async () => {
  const a = await freshStore();
  const img = await writeTestImage(a, `${host}/demo/streamed:1`, layers);
  log = [];
  await pushImage(a, `${host}/demo/streamed:1`);
  const streamed = log.filter((r) => r.isStreamed);
  assert.equal(streamed.length, 2, JSON.stringify(log));
  // No layer went a second time as a monolithic PUT with a body.
  const layerPuts = log.filter((r) => r.method === 'PUT' && r.path.includes('/blobs/uploads/'));
  assert.equal(layerPuts.length, 3, 'two layers closed after their PATCH, and the config');
  for (const l of await servedLayers('demo/streamed')) {
    assert.equal(digestOf(l.bytes), l.digest);
    assert.deepEqual(await a.readBlob(l.digest), l.bytes, 'the store keeps the compressed blob it sent');
  }
  const b = await freshStore();
  const got = await pullImage(b, `${registry.host}/demo/streamed:1`);
  assert.equal(got.id, img.id);
});

test('a streamed upload dropped halfway is sent again whole, and the stored blob is the one the registry has', async () => {
  const a = await freshStore();
  const img = await writeTestImage(a, `${host}/demo/dropped:1`, layers);
  log = [];
  dropStreamedPatches = 1;
  const lines: string[] = [];
  await pushImage(a, `${host}/demo/dropped:1`, { progress: (l) => lines.push(l), retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 50 } });
  assert.equal(dropStreamedPatches, 0, 'the fault fired');
  assert.equal(lines.filter((l) => l.endsWith(': Pushed')).length, 2, lines.join('\n'));
  for (const l of await servedLayers('demo/dropped')) {
    assert.equal(digestOf(l.bytes), l.digest);
    assert.deepEqual(await a.readBlob(l.digest), l.bytes);
  }
  const b = await freshStore();
  const got = await pullImage(b, `${registry.host}/demo/dropped:1`);
  assert.equal(got.id, img.id);
  assert.deepEqual((await a.fsck()).problems, [], 'no half-written blob is left in the store');
});
