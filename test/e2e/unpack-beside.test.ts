/**
 * Images that arrive by import, load or pull have their layers unpacked onto the store's
 * disk, as docker load and podman pull unpack them before returning (engine/images.ts
 * `unpackLayers`): a big layer by the detached extractor (store/extract-detached.ts), after
 * the command has returned, so that a build on the image later finds the layer dir (issue
 * 22); a small one by the command itself, before it returns.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { tempDir } from '../helpers/temp.js';

let work: string;
let registry: RegistryServer;

before(async () => {
  work = await tempDir();
  registry = await startRegistry();
});
after(async () => {
  await registry?.stop();
});

/** A rootfs tar: one file of `bytes` and a small one naming it. */
function rootfsTar(name: string, bytes: number): string {
  const dir = join(work, `rootfs-${name}`);
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(join(dir, 'data', 'blob'), Buffer.alloc(bytes, name.charCodeAt(0)));
  writeFileSync(join(dir, 'data', 'name'), `${name}\n`);
  const tar = join(work, `${name}.tar`);
  execFileSync('tar', ['-cf', tar, '-C', dir, '.']);
  return tar;
}

async function layerOf(root: string, image: string): Promise<string> {
  const r = await runCli(['inspect', image], { root });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { RootFS: { Layers: string[] } }[])[0].RootFS.Layers[0].replace('sha256:', '');
}

async function eventuallyUnpacked(root: string, hex: string): Promise<void> {
  for (let i = 0; i < 1200 && !(existsSync(join(root, 'layers', hex)) && !existsSync(join(root, 'locks', `layer-${hex}`))); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(existsSync(join(root, 'layers', hex, 'data', 'blob')), 'the layer dir is on disk, with no build having asked for it');
  assert.ok(!existsSync(join(root, 'locks', `layer-${hex}`)), 'and its extractor is done');
}

test('import, load and pull unpack a big layer beside the command, and a small one before it returns', async () => {
  const root = join(work, 'import-root');
  const big = await runCli(['import', rootfsTar('big', 6 << 20), 'unpack:big'], { root });
  assert.equal(big.code, 0, big.stderr);
  const hex = await layerOf(root, 'unpack:big');
  await eventuallyUnpacked(root, hex);

  const small = await runCli(['import', rootfsTar('small', 64 << 10), 'unpack:small'], { root });
  assert.equal(small.code, 0, small.stderr);
  const smallHex = await layerOf(root, 'unpack:small');
  assert.equal(readFileSync(join(root, 'layers', smallHex, 'data', 'name'), 'utf8'), 'small\n', 'unpacked when import returns');
  assert.ok(!existsSync(join(root, 'locks', `layer-${smallHex}`)), 'by the command itself, not an extractor');

  // The same image loaded into, and pulled into, empty stores.
  const archive = join(work, 'big-archive.tar');
  assert.equal((await runCli(['save', '-o', archive, 'unpack:big'], { root })).code, 0);
  const loadRoot = join(work, 'load-root');
  const loaded = await runCli(['load', '-i', archive], { root: loadRoot });
  assert.equal(loaded.code, 0, loaded.stderr);
  await eventuallyUnpacked(loadRoot, hex);

  const ref = `${registry.host}/unpack:big`;
  assert.equal((await runCli(['tag', 'unpack:big', ref], { root })).code, 0);
  const pushed = await runCli(['push', '-q', '--insecure-registry', registry.host, ref], { root });
  assert.equal(pushed.code, 0, pushed.stderr);
  const pullRoot = join(work, 'pull-root');
  const pulled = await runCli(['pull', '-q', '--insecure-registry', registry.host, ref], { root: pullRoot });
  assert.equal(pulled.code, 0, pulled.stderr);
  await eventuallyUnpacked(pullRoot, hex);
  const fsck = await runCli(['fsck'], { root: pullRoot });
  assert.equal(fsck.code, 0, `the unpacked dir makes the pulled tar again: ${fsck.stdout}${fsck.stderr}`);
});
