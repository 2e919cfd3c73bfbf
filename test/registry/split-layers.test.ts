import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { runCli } from '../../cli/tsbuild.js';
import { openStore, settleSplitLayers } from '../../store/index.js';
import { pushImage } from '../../registry/index.js';
import { writeTree } from '../helpers/files.js';
import { makeBusybox } from '../helpers/busybox.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { readLayoutImage, saveAndUnpack } from '../helpers/unpack.js';

const exec = promisify(execFile);

// Issue 22 item 4: an image whose layer tars gave way to their dirs and tar-splits is saved
// and pushed as before: every layer other tools read decompresses to its diff_id (skopeo
// and umoci check each blob's digest as they copy and unpack).

let registry: RegistryServer;
let work: string;
let root: string;
before(async () => {
  registry = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'tsbuild-split-layers-'));
  root = join(work, 'root');
  await makeBusybox(root, work);
});
after(async () => {
  await registry?.stop();
  if (!process.env.KEEP_TEST_OUTPUT) await rm(work, { recursive: true, force: true });
});

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Each layer of an OCI layout, decompressed, hashes to the config's diff_id of the same place. */
async function assertLayersAreDiffIds(layout: string): Promise<void> {
  const { manifest, config } = await readLayoutImage(layout);
  const got = await Promise.all(manifest.layers.map(async (l) => sha256(gunzipSync(await readFile(join(layout, 'blobs', 'sha256', l.digest.slice(7)))))));
  assert.deepEqual(got, config.rootfs.diff_ids);
}

test('save and push of an image kept as layer dirs send its layers byte for byte (skopeo, umoci)', async () => {
  const ctx = join(work, 'ctx');
  await writeTree(ctx, {
    Dockerfile: 'FROM busybox\nCOPY a /a\nRUN mkdir -p /d && echo made > /d/made && rm /etc/group && ln /a /d/hard\nCOPY c /c\n',
    a: 'copied a\n',
    c: 'copied c\n',
  });
  const built = await runCli(['build', '-q', '-t', 'split:1', ctx], { root });
  assert.equal(built.code, 0, built.stderr);
  const inspect = JSON.parse((await runCli(['inspect', 'split:1'], { root })).stdout) as { RootFS: { Layers: string[] } }[];
  const layers = inspect[0].RootFS.Layers;
  // a run extracts whatever the build's background extraction left undone; then the flush
  // that lets the tars go (store/layer-settle.ts)
  const ran = await runCli(['run', '--rm', 'split:1', 'true'], { root });
  assert.equal(ran.code, 0, ran.stderr);
  await settleSplitLayers(root);
  // every layer a later step read (busybox, COPY a, the RUN) is kept as its dir and split only
  for (const d of layers.slice(0, 3)) {
    const hex = d.slice(7);
    assert.ok(existsSync(join(root, 'layers', hex)) && existsSync(join(root, 'tar-split', hex)), `${d} is kept as its dir`);
    assert.ok(!existsSync(join(root, 'oci', 'blobs', 'sha256', hex)), `${d} has no tar blob`);
  }
  assert.equal((await runCli(['fsck'], { root })).code, 0);

  // uncompressed (before any gzip push keeps compressed copies), in one PUT and in PATCH
  // chunks: the tars are made again from dir + split as they are sent
  const plain = `${registry.host}/split/plain:1`;
  assert.equal((await runCli(['tag', 'split:1', plain], { root })).code, 0);
  const sent = await runCli(['push', '--compression', 'uncompressed', plain], { root });
  assert.equal(sent.code, 0, sent.stderr);
  const chunked = `${registry.host}/split/chunked:1`;
  assert.equal((await runCli(['tag', 'split:1', chunked], { root })).code, 0);
  await pushImage(await openStore(root), chunked, {
    chunkSizeBytes: 64 * 1024,
    compression: { algorithm: 'uncompressed', level: 0, isForced: false, cores: 1 },
  });
  for (const [ref, dir] of [[plain, 'plain'], [chunked, 'chunked']]) {
    const copied = join(work, dir);
    await exec('skopeo', ['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${copied}:1`]);
    const { manifest, config } = await readLayoutImage(copied);
    // the base was loaded gzipped and goes as stored; the build's own layers go as their tars
    // (skopeo's oci: destination compresses; the registry's own manifest says what was sent)
    const raw = JSON.parse((await exec('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])).stdout) as { layers: { mediaType: string }[] };
    assert.deepEqual(raw.layers.slice(1).map((l) => l.mediaType), Array(3).fill('application/vnd.oci.image.layer.v1.tar'), dir);
    const blobs = await Promise.all(manifest.layers.map((l) => readFile(join(copied, 'blobs', 'sha256', l.digest.slice(7)))));
    const tars = blobs.map((b) => (b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b));
    assert.deepEqual(tars.map(sha256), config.rootfs.diff_ids, `${dir}: each layer is its tar`);
  }


  const { bundle, layout } = await saveAndUnpack(root, 'split:1', join(work, 'saved'));
  await assertLayersAreDiffIds(layout);
  assert.equal(await readFile(join(bundle, 'rootfs', 'd', 'made'), 'utf8'), 'made\n');
  assert.equal(await readFile(join(bundle, 'rootfs', 'd', 'hard'), 'utf8'), 'copied a\n');
  assert.ok(!existsSync(join(bundle, 'rootfs', 'etc', 'group')), 'the whiteout came through');

  const name = `${registry.host}/split/image:1`;
  assert.equal((await runCli(['tag', 'split:1', name], { root })).code, 0);
  const pushed = await runCli(['push', name], { root });
  assert.equal(pushed.code, 0, pushed.stderr);
  const pulled = join(work, 'pulled');
  await exec('skopeo', ['copy', '--src-tls-verify=false', `docker://${name}`, `oci:${pulled}:1`]);
  await assertLayersAreDiffIds(pulled);
  await exec('umoci', ['unpack', '--image', `${pulled}:1`, join(work, 'pulled-bundle')]);
  assert.equal(await readFile(join(work, 'pulled-bundle', 'rootfs', 'c'), 'utf8'), 'copied c\n');

  // a docker-archive too: skopeo reads each layer tar as it is
  const archive = join(work, 'docker.tar');
  assert.equal((await runCli(['save', '-o', archive, 'split:1'], { root })).code, 0);
  const { stdout } = await exec('skopeo', ['inspect', `docker-archive:${archive}`]);
  assert.deepEqual((JSON.parse(stdout) as { Layers: string[] }).Layers, layers);
});
