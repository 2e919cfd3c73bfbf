import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../cli/tsbuild.js';
import { openStore } from '../../store/index.js';
import { exportCache, importCache } from '../../registry/index.js';
import { writeTree } from '../helpers/files.js';
import { makeBusybox } from '../helpers/busybox.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';

/**
 * Cache sharing through a registry: a build on one root exports its cache records; a
 * second, empty root imports them and gets CACHED steps — the RUN does not run again
 * (it writes a nanosecond timestamp, so running it again would change the layer).
 */

let registry: RegistryServer;
let work: string;
before(async () => {
  registry = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'tsbuild-registry-cache-'));
});
after(async () => {
  await registry?.stop();
  if (!process.env.KEEP_TEST_OUTPUT) await rm(work, { recursive: true, force: true });
});

test('cache exported from one root gives CACHED steps on an empty second root', async () => {
  const base = `${registry.host}/base/busybox:cache`;
  const rootA = join(work, 'a');
  const rootB = join(work, 'b');
  await makeBusybox(rootA, work);
  assert.equal((await runCli(['tag', 'busybox:latest', base], { root: rootA })).code, 0);
  assert.equal((await runCli(['push', base], { root: rootA })).code, 0);

  const ctx = join(work, 'ctx');
  await writeTree(ctx, {
    Dockerfile: `FROM ${base}\nRUN date +%s%N > /stamp\nCOPY f.txt /f.txt\n`,
    'f.txt': 'context file\n',
  });
  const first = await runCli(['build', '-t', 'app:1', '--progress', 'plain', ctx], { root: rootA });
  assert.equal(first.code, 0, first.stderr);
  const cacheRef = `${registry.host}/cache/app:buildcache`;
  const exported = await exportCache(await openStore(rootA), cacheRef);
  assert.ok(exported.records >= 2, `exported ${exported.records} records`);

  const storeB = await openStore(rootB);
  const imported = await importCache(storeB, cacheRef);
  assert.equal(imported.records, exported.records);
  assert.deepEqual(await importCache(storeB, `${registry.host}/cache/app:none`), { records: 0 }, 'a missing cache is no error');

  const second = await runCli(['build', '-t', 'app:1', '--progress', 'plain', ctx], { root: rootB });
  assert.equal(second.code, 0, second.stderr);
  const out = second.stdout + second.stderr;
  assert.equal((out.match(/CACHED/g) ?? []).length, 2, out);
  const a = await (await openStore(rootA)).resolveImage('app:1');
  const b = await storeB.resolveImage('app:1');
  assert.deepEqual(b?.config.rootfs.diff_ids, a?.config.rootfs.diff_ids, 'same layers: the RUN was not run again');
  const ran = await runCli(['run', '--rm', 'app:1', 'cat', '/f.txt'], { root: rootB });
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout, 'context file\n');
});
