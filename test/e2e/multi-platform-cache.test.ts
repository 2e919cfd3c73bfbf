/**
 * The registry cache of a two-platform build (issue 20, part 5): `--cache-to type=registry`
 * exports the records of both platforms' steps, and a second machine (an empty --root
 * holding only the two base images) with `--cache-from` of the same ref runs nothing: every
 * RUN of both platforms is served from the cache, and the index is the same. BuildKit's
 * registry cache (cache/remotecache) is followed in that it carries every platform's records.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { makeTwoArchBusybox } from '../helpers/busybox-arm64.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { writeTree } from '../helpers/files.js';
import { tempDir } from '../helpers/temp.js';

let work: string;
let root: string;
let registry: RegistryServer;

before(async () => {
  work = await tempDir('tsbuild-multi-cache-');
  root = join(work, 'machine-1');
  await makeTwoArchBusybox(root, work);
  registry = await startRegistry();
});
after(async () => {
  await registry?.stop();
});

const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };

// Each RUN writes a random marker: a rerun would give another one. The arm64 RUN runs under qemu.
const DOCKERFILE = `ARG TARGETARCH
FROM busybox:\${TARGETARCH}
RUN cat /proc/sys/kernel/random/uuid > /marker && uname -m >> /marker
COPY a.txt /
RUN cat /proc/sys/kernel/random/uuid > /marker2
`;

test('a two-platform build exported to a registry cache is fully CACHED for both platforms on an empty store, with the same index', async () => {
  const ctx = join(work, 'ctx');
  await writeTree(ctx, { Dockerfile: DOCKERFILE, 'a.txt': 'a\n' });
  const ref = `${registry.host}/cache/multi:buildcache`;
  const platforms = 'linux/amd64,linux/arm64';
  const first = await runCli(['build', '--progress', 'plain', '--platform', platforms, '--cache-to', `type=registry,ref=${ref}`, '--iidfile', join(work, 'iid-1'), '-t', 'multi', ctx], { root, env });
  assert.equal(first.code, 0, first.stderr);

  // The second machine: the same two base images (moved by save/load, so the same ids), no cache.
  const bases = join(work, 'bases.tar');
  const save = await runCli(['save', '-o', bases, 'busybox:amd64', 'busybox:arm64'], { root });
  assert.equal(save.code, 0, save.stderr);
  const other = join(work, 'machine-2');
  const load = await runCli(['load', '-i', bases], { root: other });
  assert.equal(load.code, 0, load.stderr);

  const second = await runCli(['build', '--progress', 'plain', '--platform', platforms, '--cache-from', `type=registry,ref=${ref}`, '--iidfile', join(work, 'iid-2'), '-t', 'multi', ctx], { root: other, env });
  assert.equal(second.code, 0, second.stderr);
  // Four RUNs and two COPYs (three steps per platform), every one CACHED.
  assert.equal(second.stderr.match(/^#\d+ CACHED$/gm)?.length, 6, second.stderr);
  assert.equal(await readFile(join(work, 'iid-2'), 'utf8'), await readFile(join(work, 'iid-1'), 'utf8'), 'the same index digest on both machines');
  for (const [platform, uname] of [['linux/amd64', 'x86_64'], ['linux/arm64', 'aarch64']]) {
    const cat = ['run', '--rm', '--platform', platform, 'multi', 'cat', '/marker', '/marker2'];
    const there = await runCli(cat, { root });
    const here = await runCli(cat, { root: other });
    assert.equal(here.code, 0, here.stderr);
    assert.equal(here.stdout, there.stdout, `${platform}: the markers the first machine's RUNs wrote`);
    assert.equal(here.stdout.split('\n')[1], uname);
  }
});
