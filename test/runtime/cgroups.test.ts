import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, utimesSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { UserError } from '../../common/index.js';
import { createCgroup, discoverCgroups, parseCgroupLayout, type Controller } from '../../executor/cgroups.js';
import { parseCpus, parseMemory, parsePidsLimit } from '../../executor/cgroups-limits.js';
import { makeBusybox } from '../helpers/busybox.js';
import { tempDir } from '../helpers/temp.js';

let root: string;
let work: string;
const cli = (args: string[]) => runCli(args, { root });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const layout = discoverCgroups();
/** The parent dirs container cgroups are made in, per controller this host has. */
function parents(): Partial<Record<Controller, string>> {
  const out: Partial<Record<Controller, string>> = {};
  for (const c of ['memory', 'pids', 'cpu'] as const) {
    const base = layout.v1[c] ?? (layout.v2?.controllers.includes(c) ? layout.v2.mount : undefined);
    if (base !== undefined) out[c] = join(base, 'tsbuild');
  }
  return out;
}
function children(dir: string | undefined): string[] {
  if (!dir || !existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
}
const has = (c: Controller) => parents()[c] !== undefined;

before(async () => {
  root = await tempDir('tsbuild-cgroups-');
  work = await tempDir('tsbuild-cgroups-work-');
  await makeBusybox(root, work);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

test('Docker value formats: --memory, --pids-limit, --cpus', () => {
  assert.equal(parseMemory('64m'), 64 * 1024 * 1024);
  assert.equal(parseMemory('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(parseMemory('512MiB'), 512 * 1024 * 1024);
  assert.equal(parseMemory('10485760'), 10485760);
  assert.equal(parseMemory('0'), undefined);
  assert.equal(parsePidsLimit('20'), 20);
  assert.equal(parsePidsLimit('-1'), undefined);
  assert.equal(parsePidsLimit('0'), undefined);
  assert.equal(parseCpus('0.5', '--cpus', 2), 0.5);
  assert.equal(parseCpus('2', '--cpus', 2), 2);
  const bad = (f: () => unknown, message: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof UserError && e.exitCode === 125 && message.test(e.message));
  bad(() => parseMemory('abc'), /^invalid argument "abc" for "-m, --memory" flag: invalid size: 'abc'$/);
  bad(() => parseMemory('1k'), /Minimum memory limit allowed is 6MB/);
  bad(() => parsePidsLimit('x'), /invalid argument "x" for "--pids-limit" flag/);
  bad(() => parseCpus('half'), /invalid argument "half" for "--cpus" flag: failed to parse half as a rational number/);
  bad(() => parseCpus('3', '--cpus', 2), /Range of CPUs is from 0.01 to 2.00/);
});

test('layout: v1 hierarchies nested under our own cgroup; v2 controllers from the root', () => {
  const mountinfo = [
    '30 25 0:27 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
    '31 25 0:28 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
    '32 25 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
    '33 25 0:30 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  ].join('\n');
  const self = '8:pids:/\n4:memory:/job/7\n1:cpu,cpuacct:/a\n0::/\n';
  const l = parseCgroupLayout(mountinfo, self, () => 'hugetlb\n');
  assert.deepEqual(l.v1, { memory: '/sys/fs/cgroup/memory/job/7', pids: '/sys/fs/cgroup/pids', cpu: '/sys/fs/cgroup/cpu,cpuacct/a' });
  assert.deepEqual(l.v2, { mount: '/sys/fs/cgroup/unified', controllers: [] });
  const pure = parseCgroupLayout('40 1 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw', '0::/user.slice\n', () => 'cpuset cpu io memory pids\n');
  assert.deepEqual(pure, { v1: {}, v2: { mount: '/sys/fs/cgroup', controllers: ['memory', 'pids', 'cpu'] } });
});

test('a limit without a controller is a clear error naming the flag, exit 125', async () => {
  const none = { v1: {}, v2: { mount: '/sys/fs/cgroup/unified', controllers: [] } };
  await assert.rejects(createCgroup('x1', { memoryBytes: 64 << 20 }, none), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.exitCode, 125);
    assert.match(e.message, /^--memory: no memory cgroup controller is available here \(/);
    return true;
  });
  await assert.rejects(createCgroup('x1', { pidsLimit: 5 }, { v1: {} }), /^UserError: --pids-limit: no pids cgroup controller is available here \(.*no cgroup v2 mount\)$/);
  assert.equal(await createCgroup('x1', {}, { v1: {} }), undefined);
});

test('bad values are refused by run with exit 125 before anything starts', async () => {
  const r = await cli(['run', '--rm', '-m', 'abc', 'busybox', 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /invalid argument "abc" for "-m, --memory" flag: invalid size: 'abc'/);
  const p = await cli(['run', '--rm', '--pids-limit', 'many', 'busybox', 'true']);
  assert.equal(p.code, 125);
  assert.match(p.stderr, /--pids-limit/);
});

const FORKS = 'for i in $(seq 50); do sleep 2 & done; wait; echo all-started';

// Not skipped where a controller is missing: CI's machines have them, and a missing one must fail loudly.
test('the memory, pids and cpu controllers the tests below need are available here', () => {
  for (const c of ['memory', 'pids', 'cpu'] as Controller[]) assert.ok(has(c), `no usable ${c} cgroup controller on this machine`);
});

test('--pids-limit 20 stops a fork loop; without it the loop runs', async () => {
  const limited = await cli(['run', '--rm', '--pids-limit', '20', 'busybox', 'sh', '-c', FORKS]);
  assert.match(limited.stderr, /can't fork|Resource temporarily unavailable/);
  assert.doesNotMatch(limited.stdout, /all-started/);
  const free = await cli(['run', '--rm', 'busybox', 'sh', '-c', FORKS]);
  assert.equal(free.code, 0, free.stderr);
  assert.equal(free.stdout, 'all-started\n');
});

const HOG = 'head -c 100m /dev/zero | tail > /dev/null'; // busybox tail holds the whole 100 MB line

test('--memory 32m kills a process using 100 MB (137); without it it succeeds', async () => {
  const limited = await cli(['run', '--rm', '-m', '32m', 'busybox', 'sh', '-c', HOG]);
  assert.equal(limited.code, 137, limited.stderr);
  const free = await cli(['run', '--rm', 'busybox', 'sh', '-c', HOG]);
  assert.equal(free.code, 0, free.stderr);
});

test('the limits are written, every process is inside, and the dirs are gone after the run', async () => {
  const p = parents();
  const before = Object.fromEntries(Object.entries(p).map(([c, d]) => [c, children(d)]));
  const running = cli(['run', '--rm', '-m', '64m', '--pids-limit', '30', '--cpus', '0.5', 'busybox', 'sh', '-c', 'sleep 3 & sleep 3; true']);
  let id: string | undefined;
  const end = Date.now() + 10_000;
  while (!id && Date.now() < end) {
    id = children(p.pids).find((n) => !before.pids.includes(n) && Number(readFileSync(join(p.pids!, n, 'pids.current'), 'utf8')) >= 3);
    if (!id) await sleep(50);
  }
  assert.ok(id, 'no container cgroup appeared');
  const read = (c: Controller, file: string) => readFileSync(join(p[c]!, id!, file), 'utf8').trim();
  if (layout.v1.memory) assert.equal(read('memory', 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
  else assert.equal(read('memory', 'memory.max'), String(64 * 1024 * 1024));
  assert.equal(read('pids', 'pids.max'), '30');
  if (layout.v1.cpu) assert.equal(read('cpu', 'cpu.cfs_quota_us'), '50000');
  else assert.equal(read('cpu', 'cpu.max'), '50000 100000');
  // pid 1 (sh) and its two sleeps: all in the cgroup, the helper outside it.
  assert.equal(read('pids', 'cgroup.procs').split('\n').length, 3);
  const r = await running;
  assert.equal(r.code, 0, r.stderr);
  for (const c of ['memory', 'pids', 'cpu'] as const) assert.ok(!children(p[c]).includes(id!), `${c} cgroup ${id} left behind`);
});

test('run -d: the helper removes the cgroup when the container ends', async () => {
  const p = parents().pids!;
  const before = children(p);
  const r = await cli(['run', '-d', '--rm', '--pids-limit', '10', 'busybox', 'sleep', '2']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  assert.ok(!before.includes(id) && children(p).includes(id), 'the container runs in its cgroup');
  const end = Date.now() + 10_000;
  while (children(p).includes(id) && Date.now() < end) await sleep(100);
  assert.ok(!children(p).includes(id), 'cgroup left behind by a detached container');
});

test('leftover cgroups of dead containers are swept on the next start; fresh ones are kept', async () => {
  const p = parents().pids!;
  const stale = join(p, `stale-test-${process.pid}`);
  const fresh = join(p, `fresh-test-${process.pid}`);
  mkdirSync(stale, { recursive: true });
  mkdirSync(fresh);
  utimesSync(stale, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
  try {
    const r = await cli(['run', '--rm', '--pids-limit', '10', 'busybox', 'true']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(stale), 'stale cgroup not swept');
    assert.ok(existsSync(fresh), 'a fresh (maybe about to be joined) cgroup was swept');
  } finally {
    for (const d of [stale, fresh]) if (existsSync(d)) rmdirSync(d);
  }
});
