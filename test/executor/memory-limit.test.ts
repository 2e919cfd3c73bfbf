import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, test } from 'node:test';
import { cliPath, runCli } from '../../cli/tsbuild.js';
import { discoverCgroups } from '../../executor/cgroups.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree } from '../helpers/files.js';

// tmpfs pages count against the memory cgroup of whoever writes them and cannot be
// reclaimed: a RUN upper dir in memory under a CI pod's limit gets the build OOM-killed.

let root: string;
let work: string;

before(async () => {
  ({ work, root } = await busyboxWork());
});

/** Run `tsbuild args` as a member of the cgroup v1 memory group `group` (it joins before exec). */
function runInGroup(group: string, args: string[]): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const script = `echo $$ > ${group}/cgroup.procs && exec "$0" "$@"`;
    const child = spawn('sh', ['-c', script, process.execPath, cliPath, '--root', root, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr: Buffer.concat(err).toString('utf8') }));
  });
}

const read = (group: string, file: string) => readFileSync(join(group, file), 'utf8').trim();

test('under a 1 GiB cgroup v1 memory limit, a RUN writing 1.5 GB succeeds and runs once', async (t) => {
  const base = discoverCgroups().v1.memory;
  if (base === undefined) return t.skip('no cgroup v1 memory controller here');
  const group = join(base, `tsbuild-test-${randomBytes(4).toString('hex')}`);
  mkdirSync(group);
  try {
    writeFileSync(join(group, 'memory.limit_in_bytes'), String(1024 ** 3));
    const ctx = join(work, 'ctx-big');
    // 1431 MiB = 1.5 GB; the cache mount counts the runs.
    await writeTree(ctx, { Dockerfile: "FROM busybox\nRUN --mount=type=cache,target=/c,id=big sh -c 'echo run >> /c/runs; dd if=/dev/zero of=/big bs=1M count=1431 2>&1'\n" });
    const r = await runInGroup(group, ['build', '--progress', 'plain', '-t', 'big', ctx]);
    const peakMiB = Math.round(Number(read(group, 'memory.max_usage_in_bytes')) / 1024 ** 2);
    console.log(`cgroup peak usage: ${peakMiB} MiB, limit hits: ${read(group, 'memory.failcnt')}`);
    assert.equal(r.code, 0, `${r.signal ?? ''}\n${r.stderr}`);
    assert.match(r.stderr, /1431\+0 records out/);
    assert.doesNotMatch(read(group, 'memory.oom_control'), /oom_kill [1-9]/, 'nothing in the group was OOM-killed');
  } finally {
    for (let i = 0; i < 100 && existsSync(group); i++) {
      try {
        rmdirSync(group);
      } catch {
        await sleep(50); // the last member is still exiting
      }
    }
  }
  const runs = await runCli(['build', '--progress', 'plain', '--no-cache', '-t', 'big-count', '-'], {
    root,
    input: 'FROM busybox\nRUN --mount=type=cache,target=/c,id=big wc -l < /c/runs\n',
  });
  assert.match(runs.stderr, /#\d+ \d+\.\d+ 1\n/, 'the big step ran exactly once');
  const size = await runCli(['run', '--rm', 'big', 'sh', '-c', 'wc -c < /big'], { root });
  assert.equal(size.stdout.trim(), String(1431 * 1024 ** 2));
});
