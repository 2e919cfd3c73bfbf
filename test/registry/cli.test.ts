import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../cli/tsbuild.js';
import { openStore } from '../../store/index.js';
import { tempDir } from '../helpers/temp.js';
import { writeTree } from '../helpers/files.js';
import { makeBusybox } from '../helpers/busybox.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { pullImage } from '../../registry/index.js';

const exec = promisify(execFile);

/** The registry verbs as a user types them, and images from a registry used by build and run. */

let registry: RegistryServer;
let work: string;
let source: string;
before(async () => {
  registry = await startRegistry();
  // Made here, removed at the end of the file (tempDir() in a hook would go with the hook).
  work = await mkdtemp(join(tmpdir(), 'tsbuild-registry-cli-'));
  source = join(work, 'root');
  await makeBusybox(source, work);
});
after(async () => {
  await registry?.stop();
  if (!process.env.KEEP_TEST_OUTPUT) await rm(work, { recursive: true, force: true });
});

test('tsbuild push then pull of a real base image: same id, Docker-like lines', async () => {
  const name = `${registry.host}/base/busybox:1`;
  assert.equal((await runCli(['tag', 'busybox:latest', name], { root: source })).code, 0);
  const pushed = await runCli(['push', name], { root: source });
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.match(pushed.stdout, new RegExp(`^The push refers to repository \\[${registry.host.replace(/\./g, '\\.')}/base/busybox\\]$`, 'm'));
  assert.match(pushed.stdout, /^[0-9a-f]{12}: Pushed$/m);

  const root = await tempDir();
  const pulled = await runCli(['pull', name], { root });
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.match(pulled.stdout, /^1: Pulling from base\/busybox$/m);
  assert.match(pulled.stdout, /^[0-9a-f]{12}: Pull complete$/m);
  assert.match(pulled.stdout, /^Digest: sha256:[0-9a-f]{64}$/m);
  const want = (await (await openStore(source)).resolveImage('busybox:latest'))!.id;
  assert.equal((await (await openStore(root)).resolveImage(name))?.id, want);

  const { stdout } = await exec('skopeo', ['inspect', '--tls-verify=false', `docker://${name}`]);
  const digest = /^Digest: (sha256:[0-9a-f]{64})$/m.exec(pulled.stdout)![1];
  assert.equal((JSON.parse(stdout) as { Digest: string }).Digest, digest);
});

test('FROM an image that is only in the registry pulls it, and the build runs on it', async () => {
  const name = `${registry.host}/base/busybox:from`;
  assert.equal((await runCli(['tag', 'busybox:latest', name], { root: source })).code, 0);
  assert.equal((await runCli(['push', name], { root: source })).code, 0);
  const root = await tempDir();
  const ctx = await tempDir();
  await writeTree(ctx, {
    Dockerfile: `FROM ${name}\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt > /copied && test -x /bin/sh\n`,
    'hello.txt': 'hi from the context\n',
  });
  const built = await runCli(['build', '-t', 'onpulled:1', '--progress', 'plain', ctx], { root });
  assert.equal(built.code, 0, built.stderr + built.stdout);
  const store = await openStore(root);
  const base = await store.resolveImage(name);
  const image = await store.resolveImage('onpulled:1');
  assert.ok(base && image);
  assert.deepEqual(image.config.rootfs.diff_ids.slice(0, base.config.rootfs.diff_ids.length), base.config.rootfs.diff_ids);
  const ran = await runCli(['run', '--rm', 'onpulled:1', 'cat', '/copied'], { root });
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout, 'hi from the context\n');
});

test('tsbuild run of an image not in the store pulls it first', async () => {
  const name = `${registry.host}/base/busybox:run`;
  assert.equal((await runCli(['tag', 'busybox:latest', name], { root: source })).code, 0);
  assert.equal((await runCli(['push', name], { root: source })).code, 0);
  const root = await tempDir();
  const ran = await runCli(['run', '--rm', name, 'echo', 'pulled and ran'], { root });
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(ran.stdout + ran.stderr, new RegExp(`Unable to find image '${name.replace(/\./g, '\\.')}' locally`));
  assert.match(ran.stdout, /pulled and ran\n$/);
});

test('a Docker v2 schema 2 manifest pushed by skopeo is pulled with the same image id', async () => {
  const name = `${registry.host}/base/busybox:v2s2`;
  // from a saved archive: the store's oci/ lacks the tars of extracted layers (store/tar-split.ts)
  const saved = join(await tempDir(), 'busybox.tar');
  assert.equal((await runCli(['save', '--format', 'oci', '-o', saved, 'busybox:latest'], { root: source })).code, 0);
  await exec('skopeo', ['copy', '--dest-tls-verify=false', '--format', 'v2s2', `oci-archive:${saved}:latest`, `docker://${name}`]);
  const { stdout } = await exec('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${name}`]);
  assert.equal((JSON.parse(stdout) as { mediaType: string }).mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  const store = await openStore(await tempDir());
  const got = await pullImage(store, name);
  assert.equal(got.id, (await (await openStore(source)).resolveImage('busybox:latest'))!.id);
});
