import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chmod, copyFile } from 'node:fs/promises';
import { projectRoot } from '../../common/index.js';
import { runCli } from '../../cli/tsbuild.js';
import { writeTree } from '../helpers/files.js';
import { startRegistry } from '../helpers/registry-server.js';
import { tempDir } from '../helpers/temp.js';

// A second machine (simulated by a second, empty --root) gets CACHED steps from the
// first one's exported cache, without running them.
let registry: Awaited<ReturnType<typeof startRegistry>>;
before(async () => {
  registry = await startRegistry({});
});
after(async () => {
  await registry.stop();
});

// The LABELs and ENV travel as one record (a run of config steps): the image id shows
// their history came with it.
const dockerfile = 'FROM scratch\nLABEL a=1\nENV X=1\nLABEL b=2\nCOPY a /a\nCOPY b /b\nCMD ["/a"]\n';

async function twoMachines(to: string, from: string) {
  const work = await tempDir();
  const ctx = join(work, 'ctx');
  await writeTree(ctx, { Dockerfile: dockerfile, a: 'a\n', b: 'b\n' });
  const first = await runCli(['build', '-q', '--cache-to', to, '-t', 'shared', ctx], { root: join(work, 'machine-1'), cwd: work });
  assert.equal(first.code, 0, first.stderr);
  const second = await runCli(['build', '--progress', 'plain', '--cache-from', from, '--iidfile', join(work, 'iid'), '-t', 'shared', ctx], {
    root: join(work, 'machine-2'),
    cwd: work,
  });
  assert.equal(second.code, 0, second.stderr);
  const { readFile } = await import('node:fs/promises');
  assert.equal((await readFile(join(work, 'iid'), 'utf8')).trim(), first.stdout.trim(), 'same image id on both machines');
  return { first, second };
}

test('cache exported to a local folder makes a fresh root build fully CACHED', async () => {
  const { second } = await twoMachines('type=local,dest=cache-dir', 'type=local,src=cache-dir');
  assert.equal((second.stderr.match(/#\d+ CACHED/g) ?? []).length, 2, second.stderr);
});

test('cache exported through a registry makes a fresh root build fully CACHED, with the same image id', async () => {
  const ref = `${registry.host}/cache/shared:buildcache`;
  const { second } = await twoMachines(`type=registry,ref=${ref}`, `type=registry,ref=${ref}`);
  assert.equal((second.stderr.match(/#\d+ CACHED/g) ?? []).length, 2, second.stderr);
});

test('a bad --cache-to spec is a usage error', async () => {
  const work = await tempDir();
  await writeTree(work, { Dockerfile: dockerfile, a: 'a\n', b: 'b\n' });
  const r = await runCli(['build', '--cache-to', 'type=s3,bucket=x', work], { root: join(work, 'root') });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unsupported cache type "s3"/);
});

test('build --push puts the image in the registry; run on another root pulls it once, then uses the store', async () => {
  const work = await tempDir();
  const ctx = join(work, 'ctx');
  await writeTree(ctx, { Dockerfile: 'FROM scratch\nCOPY hello /hello\nCMD ["/hello"]\n' });
  await copyFile(join(projectRoot, 'fixtures', 'scratch-hello', 'hello'), join(ctx, 'hello'));
  await chmod(join(ctx, 'hello'), 0o755);
  const name = `${registry.host}/pushed/app:1`;
  const built = await runCli(['build', '-q', '--push', '-t', name, ctx], { root: join(work, 'builder') });
  assert.equal(built.code, 0, built.stderr);
  const other = join(work, 'other');
  const pulled = await runCli(['pull', name], { root: other });
  assert.equal(pulled.code, 0, pulled.stderr);
  const inspect = await runCli(['inspect', name], { root: other });
  assert.equal((JSON.parse(inspect.stdout) as { Id: string }[])[0].Id, built.stdout.trim());
  const third = join(work, 'third');
  const first = await runCli(['run', '--rm', name], { root: third });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, 'Hello world!\n');
  assert.match(first.stderr, /Unable to find image '.*pushed\/app:1' locally/);
  const second = await runCli(['run', '--rm', name], { root: third });
  assert.equal(second.stdout, 'Hello world!\n');
  assert.doesNotMatch(second.stderr, /Unable to find image|Pulling from/);
});
