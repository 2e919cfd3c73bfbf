import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, utimes, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../../cli/tsbuild.js';
import { parseGoDuration } from '../../cli/commands/prune.js';
import { tempDir } from '../helpers/temp.js';
import { makeBusybox } from '../helpers/busybox.js';

const exec = promisify(execFile);

/**
 * The cache that cleans itself (engine/gc-policy.ts, store/gc.ts): after each build, cache
 * records go least recently used first while the store's blobs and layer dirs exceed the
 * cap (BuildKit's gc policy, cmd/buildkitd/config/gcpolicy.go; `prune --filter until=` as
 * buildx's commands/prune.go reads it), never what an image or a running build needs; and
 * `system df` rows that add up to `du -sb` of the store.
 */

let root: string;
let work: string;
let baseBytes: number;
before(async () => {
  work = await tempDir('tsbuild-auto-gc-');
  root = join(work, 'root');
  await makeBusybox(root, work);
  await writeFile(join(work, 'Dockerfile'), 'FROM busybox\nARG N\nRUN head -c 400000 /dev/urandom > /f && echo "$N" > /n\n');
  await writeFile(join(work, 'Dockerfile.slow'), 'FROM busybox\nRUN sleep 6 && head -c 100000 /dev/urandom > /g\nRUN test -s /g && cp /g /h\n');
  baseBytes = await counted(root);
});

/** What the cap counts, as du counts it: every blob file and every layer dir. */
async function counted(r: string): Promise<number> {
  const { stdout } = await exec('sh', ['-c', 'du -sbc oci/blobs/sha256/* layers/* 2>/dev/null | tail -1'], { cwd: r });
  return Number(stdout.split('\t')[0]);
}

test('automatic gc keeps the store under its cap across 30 builds, and a build running meanwhile succeeds', async () => {
  // The base image and its layer dir, plus room for about three builds (each ~0.8 MB).
  const cap = baseBytes + 2_600_000 + 1_000_000;
  await writeFile(join(root, 'tsbuild.json'), JSON.stringify({ gc: { keepStorage: String(cap) } }));
  let slow: Promise<{ code: number; stderr: string }> | undefined;
  let slowDone = false;
  for (let i = 0; i < 30; i++) {
    if (i === 10) {
      slow = runCli(['build', '-o', `type=local,dest=${join(work, 'slow-out')}`, '-f', join(work, 'Dockerfile.slow'), work], { root });
      void slow.then(() => (slowDone = true));
    }
    const r = await runCli(['build', '--build-arg', `N=${i}`, '-o', `type=local,dest=${join(work, `out-${i}`)}`, work], { root });
    assert.equal(r.code, 0, `build ${i}: ${r.stderr}`);
    assert.equal(await readFile(join(work, `out-${i}`, 'n'), 'utf8'), `${i}\n`);
    // While the slow build runs its lease keeps everything written since it began.
    if (slow === undefined || slowDone) assert.ok((await counted(root)) <= cap, `after build ${i}: ${await counted(root)} > cap ${cap}`);
    if (slow !== undefined && !slowDone && i > 25) await slow;
  }
  const s = await slow!;
  assert.equal(s.code, 0, `the build running during gc failed: ${s.stderr}`);
  assert.equal((await readFile(join(work, 'slow-out', 'h'))).length, 100_000);
  const records = (await readdir(join(root, 'cache', 'records'))).length;
  assert.ok(records < 30 * 2, `least recently used records were dropped (${records} left)`);
  // The image is never collected: a build on it still works.
  assert.equal((await runCli(['run', '--rm', 'busybox', 'true'], { root })).code, 0);
});

test('system df: the rows add up to du -sb of the store', async () => {
  const r = await runCli(['system', 'df', '--format', 'json'], { root });
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { Type: string; SizeBytes: number; ReclaimableBytes: number; TotalCount: string });
  assert.deepEqual(rows.map((x) => x.Type), ['Images', 'Containers', 'Local Volumes', 'Build Cache', 'Cache Mounts', 'Layer Dirs', 'Store Metadata']);
  const { stdout } = await exec('du', ['-sb', root]);
  assert.equal(rows.reduce((n, x) => n + x.SizeBytes, 0), Number(stdout.split('\t')[0]));
  for (const x of rows) assert.ok(x.ReclaimableBytes <= x.SizeBytes, x.Type);
  assert.equal(rows[0].TotalCount, '1');
  assert.ok(Number(rows[3].TotalCount) > 0, 'build cache records are counted');
  const table = await runCli(['system', 'df'], { root });
  assert.match(table.stdout, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/m);
});

test('prune --filter until=1h drops cache records unused for an hour, keeps the rest', async () => {
  for (const n of ['a', 'b']) {
    const b = await runCli(['build', '--build-arg', `N=${n}`, '-o', `type=local,dest=${join(work, `u-${n}`)}`, work], { root, env: { TSBUILD_GC_KEEP_STORAGE: 'off' } });
    assert.equal(b.code, 0, b.stderr);
  }
  const dir = join(root, 'cache', 'records');
  const names = (await readdir(dir)).sort();
  assert.ok(names.length >= 2, names.join(' '));
  const old = new Date(Date.now() - 2 * 3600_000);
  await utimes(join(dir, names[0]), old, old);
  const r = await runCli(['prune', '--filter', 'until=1h'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Deleted build cache records: 1$/m);
  assert.deepEqual((await readdir(dir)).sort(), names.slice(1));
  const bad = await runCli(['prune', '--filter', 'until=soon'], { root });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /"until" filter expects a duration/);
  const other = await runCli(['prune', '--filter', 'type=regular'], { root });
  assert.equal(other.code, 2);
  assert.match(other.stderr, /--filter type= is not supported/);
});

test('a bad cap setting is one error line naming it', async () => {
  const r = await runCli(['build', '-o', `type=local,dest=${join(work, 'x')}`, work], { root, env: { TSBUILD_GC_KEEP_STORAGE: 'lots' } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /TSBUILD_GC_KEEP_STORAGE: "lots" is not a size like 10GB/);
});

const durations: [string, number | undefined][] = [['24h', 86_400_000], ['1h30m', 5_400_000], ['1.5s', 1500], ['90m', 5_400_000], ['0', 0], ['1d', undefined], ['', undefined], ['h', undefined]];
for (const [s, want] of durations) test(`until duration "${s}" reads as Go's time.ParseDuration does`, () => assert.equal(parseGoDuration(s), want));
