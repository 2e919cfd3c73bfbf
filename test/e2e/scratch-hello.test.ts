import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from '../../common/index.js';
import { runCli } from '../../cli/tsbuild.js';
import { tempDir } from '../helpers/temp.js';
import { saveAndUnpack } from '../helpers/unpack.js';

const exec = promisify(execFile);
const fixture = join(projectRoot, 'fixtures', 'scratch-hello');

test('the README main job: build fixtures/scratch-hello, save, unpack with umoci, run ./hello', async () => {
  const work = await tempDir();
  const root = join(work, 'root');
  const built = await runCli(['build', '--progress', 'plain', '-t', 'saluda', fixture], { root });
  assert.equal(built.code, 0, built.stderr);
  assert.match(built.stderr, /#\d+ \[1\/2\] FROM scratch/);
  assert.match(built.stderr, /#\d+ \[2\/2\] ADD hello \//);
  assert.match(built.stderr, /writing image sha256:[0-9a-f]{64} done/);

  const { bundle } = await saveAndUnpack(root, 'saluda', work);
  const hello = join(bundle, 'rootfs', 'hello');
  const { stdout } = await exec(hello);
  assert.equal(stdout, 'Hello world!\n');
  const config = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process: { args: string[] } };
  assert.deepEqual(config.process.args, ['/hello']);
});

test('a FROM scratch image of one small binary is the binary plus a few KB', async () => {
  const work = await tempDir();
  const root = join(work, 'root');
  const built = await runCli(['build', '-q', '-t', 'saluda', fixture], { root });
  assert.equal(built.code, 0, built.stderr);
  const id = built.stdout.trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  const inspect = await runCli(['inspect', 'saluda'], { root });
  assert.equal(inspect.code, 0, inspect.stderr);
  const [info] = JSON.parse(inspect.stdout) as { Id: string; RootFS: { Layers: string[] }; Config: { Cmd: string[] }; Size: number }[];
  assert.equal(info.Id, id);
  assert.equal(info.RootFS.Layers.length, 1);
  assert.deepEqual(info.Config.Cmd, ['/hello']);
  const binary = (await stat(join(fixture, 'hello'))).size;
  assert.equal(info.Size, binary);
  const archive = join(work, 'saluda.tar');
  const saved = await runCli(['save', '-o', archive, 'saluda'], { root });
  assert.equal(saved.code, 0, saved.stderr);
  const archiveBytes = (await stat(archive)).size;
  assert.ok(archiveBytes < binary + 16 * 1024, `archive ${archiveBytes} B for a ${binary} B binary`);
});

test('skopeo reads the store directly through the oci: transport', async () => {
  const work = await tempDir();
  const root = join(work, 'root');
  const built = await runCli(['build', '-q', '-t', 'saluda:v1', fixture], { root });
  assert.equal(built.code, 0, built.stderr);
  const { stdout } = await exec('skopeo', ['inspect', `oci:${root}/oci:docker.io/library/saluda:v1`]);
  const info = JSON.parse(stdout) as { Layers: string[]; Os: string; Architecture: string };
  assert.equal(info.Layers.length, 1);
  assert.equal(info.Os, 'linux');
  assert.equal(info.Architecture, 'amd64');
});

test('an unchanged rebuild is fully cached and gives the same image id', async () => {
  const work = await tempDir();
  const root = join(work, 'root');
  const first = await runCli(['build', '-q', '-t', 'saluda', fixture], { root });
  assert.equal(first.code, 0, first.stderr);
  const second = await runCli(['build', '--progress', 'plain', '--iidfile', join(work, 'iid'), '-t', 'saluda', fixture], { root });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /ADD hello \/\n#\d+ CACHED/);
  assert.equal((await readFile(join(work, 'iid'), 'utf8')).trim(), first.stdout.trim());
});

test('the docker-archive from save is read by skopeo (docker load format) and runs after a copy', async () => {
  const work = await tempDir();
  const root = join(work, 'root');
  assert.equal((await runCli(['build', '-q', '-t', 'saluda', fixture], { root })).code, 0);
  const archive = join(work, 'saluda-docker.tar');
  assert.equal((await runCli(['save', '-o', archive, 'saluda'], { root })).code, 0);
  const { stdout } = await exec('skopeo', ['inspect', `docker-archive:${archive}`]);
  assert.equal((JSON.parse(stdout) as { Layers: string[] }).Layers.length, 1);
  await exec('skopeo', ['copy', `docker-archive:${archive}`, `oci:${join(work, 'copied')}:saluda`]);
  const bundle = join(work, 'bundle');
  await exec('umoci', ['unpack', '--image', `${join(work, 'copied')}:saluda`, bundle]);
  assert.equal((await exec(join(bundle, 'rootfs', 'hello'))).stdout, 'Hello world!\n');
});
