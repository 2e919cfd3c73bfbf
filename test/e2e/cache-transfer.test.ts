import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
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

const dockerfile = 'FROM scratch\nCOPY a /a\nCOPY b /b\nCMD ["/a"]\n';

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
