import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { readdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { before, test } from 'node:test';
import { cliPath, runCli } from '../../cli/tsbuild.js';
import { openStore } from '../../store/index.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree } from '../helpers/files.js';

// Nothing a build holds outlives it on the host: secrets and /etc files only in memory,
// no container left running, no mount left after Ctrl-C, no partial `save -o` file.

const exec = promisify(execFile);
const TMPFS_MAGIC = 0x01021994;

let work: string;
let root: string;

before(async () => {
  ({ work, root } = await busyboxWork('tsbuild-leaks-'));
});

/** Mount points of /proc/self/mountinfo under the store root. */
function mountsUnderStore(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p && p.startsWith(root + '/'));
}

/** Pids of processes whose environment holds `mark` (tsbuild, the helper and whatever it
 * forked before the container's own clean environment) or whose command line holds it
 * (the step's shell); with `commandOnly`, just the latter. */
function processesMarked(mark: string, commandOnly = false): number[] {
  const out: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n) || Number(n) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${n}/environ`, 'latin1');
      const cmd = readFileSync(`/proc/${n}/cmdline`, 'latin1');
      const state = readFileSync(`/proc/${n}/stat`, 'latin1').split(') ')[1]?.[0];
      if (state !== 'Z' && ((!commandOnly && env.includes(mark)) || cmd.includes(mark))) out.push(Number(n));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The processes marked `mark` still there after a while: the build's network holder and
 * slirp4netns end when they see tsbuild's pipe close, a moment after tsbuild. */
async function survivors(mark: string): Promise<number[]> {
  for (let i = 0; i < 100 && processesMarked(mark).length > 0; i++) await sleep(50);
  return processesMarked(mark);
}

/** Start a build of `dockerfile` with env `mark=1`; resolves once its RUN step's private tmpfs is mounted. */
async function startBuild(name: string, dockerfile: string, mark: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const ctx = join(work, `ctx-${name}`);
  await writeTree(ctx, { Dockerfile: dockerfile });
  const child = spawn(process.execPath, [cliPath, '--root', root, 'build', '-q', ...extra, '-t', name, ctx], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env, [mark]: '1' },
  });
  const err: Buffer[] = [];
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  // The step's command runs (its shell has the mark in its command line).
  for (let i = 0; i < 300 && processesMarked(mark, true).length === 0; i++) await sleep(100);
  return { child, ended, stderr: () => Buffer.concat(err).toString('utf8') };
}

/** What the open fds of process `pid` point at (fds closed meanwhile left out). */
function fdsOf(pid: number): string[] {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  return fds.flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
    } catch {
      return [];
    }
  });
}

/** Files under `dirs` holding `needle` (grep -F, devices and vanished files skipped). */
async function filesHolding(needle: string, dirs: string[]): Promise<string[]> {
  const r = await exec('grep', ['-rlsF', '--devices=skip', '-e', needle, ...dirs], { maxBuffer: 1 << 24 }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  return r.stdout.split('\n').filter(Boolean);
}

test('a SIGKILLed build holding a secret leaves no secret bytes on disk, and no tsbuild-helper or container process', async () => {
  const secret = `s3cret-${randomBytes(16).toString('hex')}`;
  const mark = `TSBUILD_LEAK_${randomBytes(4).toString('hex')}`;
  const build = await startBuild(
    'secret-kill',
    `FROM busybox\nRUN --mount=type=secret,id=tok,required=true cat /run/secrets/tok > /dev/null && sleep 300; : ${mark}\n`,
    mark,
    ['--secret', 'id=tok,env=TOK'],
    { TOK: secret },
  );
  assert.ok(processesMarked(mark, true).length > 0, 'the step\'s command was running');
  assert.ok(processesMarked(mark).length >= 3, 'tsbuild, its helper and the step\'s command were running');
  build.child.kill('SIGKILL');
  await build.ended;
  assert.deepEqual(await survivors(mark), [], 'no tsbuild-helper, slirp4netns or step process survives its build');
  // Until the next open the secret is only in the dead build's private tmpfs: memory.
  for (const f of await filesHolding(secret, [root, '/tmp'])) {
    assert.equal((await statfs(f)).type, TMPFS_MAGIC, `${f} holds the secret and is not on a tmpfs`);
  }
  const next = await runCli(['images'], { root });
  assert.equal(next.code, 0, next.stderr);
  assert.deepEqual(mountsUnderStore(), [], 'the next open unmounted the dead build\'s tmpfs');
  assert.deepEqual(await filesHolding(secret, [root, '/tmp']), [], 'the secret is nowhere under the store or /tmp');
  assert.deepEqual(await readdir(join(root, 'tmp')), []);
});

test('Ctrl-C (SIGINT) on a build prints "build cancelled", stops the step, leaves no mount and exits 130', async () => {
  const mark = `TSBUILD_INT_${randomBytes(4).toString('hex')}`;
  const build = await startBuild('sigint', `FROM busybox\nRUN sleep 300; : ${mark}\n`, mark);
  assert.ok(processesMarked(mark, true).length > 0, 'the step\'s command was running');
  assert.ok(mountsUnderStore().length > 0, 'the step\'s tmpfs mounts were there');
  build.child.kill('SIGINT');
  const end = await build.ended;
  assert.equal(end.code, 130, build.stderr());
  assert.equal(build.stderr(), 'build cancelled\n');
  assert.deepEqual(await survivors(mark), [], 'the step\'s container and the build\'s network are gone');
  assert.deepEqual(mountsUnderStore(), []);
  assert.deepEqual(await readdir(join(root, 'tmp')), []);
});

test('SIGTERM cancels a build the same way', async () => {
  const mark = `TSBUILD_TERM_${randomBytes(4).toString('hex')}`;
  const build = await startBuild('sigterm', `FROM busybox\nRUN sleep 300; : ${mark}\n`, mark);
  build.child.kill('SIGTERM');
  assert.equal((await build.ended).code, 130);
  assert.equal(build.stderr(), 'build cancelled\n');
  assert.deepEqual(await survivors(mark), []);
  assert.deepEqual(mountsUnderStore(), []);
});

test('the next store open kills a process recorded by a dead build, then removes its temp dir', async () => {
  const storeRoot = join(work, 'orphan-root');
  const store = await openStore(storeRoot);
  const dead = spawn('true');
  await new Promise((r) => dead.on('exit', r));
  const dir = join(storeRoot, 'tmp', `${dead.pid}-000000000000-run-`);
  mkdirSync(dir);
  const orphan: ChildProcess = spawn('sleep', ['300'], { stdio: 'ignore' });
  const gone = new Promise((r) => orphan.on('exit', (_code, signal) => r(signal)));
  await store.recordProcess(dir, orphan.pid!);
  await openStore(storeRoot);
  assert.equal(await gone, 'SIGKILL');
  assert.deepEqual(await readdir(join(storeRoot, 'tmp')), []);
});

test('save -o killed while writing leaves nothing next to the output', async () => {
  const ctx = join(work, 'ctx-save-big');
  await writeTree(ctx, { Dockerfile: 'FROM busybox\nRUN dd if=/dev/urandom of=/noise bs=1M count=128 2>/dev/null\n' });
  assert.equal((await runCli(['build', '-q', '-t', 'save-big', ctx], { root })).code, 0);
  const out = join(work, 'save-out');
  mkdirSync(out);
  for (const sig of ['SIGKILL', 'SIGINT'] as const) {
    const child = spawn(process.execPath, [cliPath, '--root', root, 'save', '-o', join(out, 'image.tar'), 'save-big'], { stdio: 'ignore' });
    const ended = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    // Killed once it has the output file open (an unnamed file in `out`).
    let writing = false;
    for (let i = 0; i < 2000 && !writing && child.exitCode === null; i++) {
      writing = fdsOf(child.pid!).some((target) => target.startsWith(out + '/'));
      if (!writing) await sleep(2);
    }
    child.kill(sig);
    const code = await ended;
    assert.ok(writing, 'the save was writing when it was killed');
    if (sig === 'SIGINT') assert.equal(code, 130);
    assert.deepEqual(await readdir(out), [], `nothing left after ${sig}`);
  }
  assert.equal((await runCli(['save', '-o', join(out, 'image.tar'), 'save-big'], { root })).code, 0);
  assert.deepEqual(await readdir(out), ['image.tar']);
});
