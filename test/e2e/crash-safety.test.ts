import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cliPath, runCli } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree } from '../helpers/files.js';
import { startRegistry } from '../helpers/registry-server.js';

// SIGKILL tsbuild at many instants of a build, save, load and pull; after each kill
// `tsbuild fsck` must find the store consistent, and the next command must work.
const seed = Number(process.env.TSBUILD_CRASH_SEED ?? Date.now() % 100000);
console.log(`crash-safety seed: ${seed} (replay with TSBUILD_CRASH_SEED=${seed})`);
let state = seed || 1;
function random(): number {
  state = (state * 1103515245 + 12345) % 2147483648;
  return state / 2147483648;
}

let work: string;
let root: string;
let ctx: string;
let registry: Awaited<ReturnType<typeof startRegistry>>;

before(async () => {
  ({ work, root } = await busyboxWork());
  ctx = join(work, 'ctx');
  const big = Buffer.alloc(4 << 20, 7);
  await writeTree(ctx, {
    Dockerfile: 'FROM busybox\nCOPY big1 /big1\nRUN dd if=/dev/zero of=/zeros bs=1M count=8 2>/dev/null\nCOPY big2 /big2\nCMD ["sh"]\n',
    big1: big,
    big2: Buffer.alloc(3 << 20, 9),
  });
  registry = await startRegistry({});
});

after(async () => {
  await registry.stop();
});

/** Start `tsbuild args`, SIGKILL it after `delayMs`; resolves when it is gone. */
function killAfter(args: string[], delayMs: number, rootDir = root): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, '--root', rootDir, ...args], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function assertConsistent(rootDir: string, what: string): Promise<void> {
  const fsck = await runCli(['--root', rootDir, 'fsck']);
  assert.equal(fsck.code, 0, `fsck after killing ${what}:\n${fsck.stdout}${fsck.stderr}`);
}

test('builds killed at 20 random instants leave a consistent store; the next build works', async () => {
  for (let i = 0; i < 20; i++) {
    const delay = Math.floor(random() * 900);
    await killAfter(['build', '-q', '--no-cache', '-t', 'crash', ctx], delay);
    await assertConsistent(root, `build at ${delay} ms (#${i})`);
  }
  const ok = await runCli(['--root', root, 'build', '-q', '-t', 'crash', ctx]);
  assert.equal(ok.code, 0, ok.stderr);
});

test('save and load killed at 20 random instants leave no partial image; both work after', async () => {
  const archive = join(work, 'crash.tar');
  assert.equal((await runCli(['--root', root, 'build', '-q', '-t', 'crash', ctx])).code, 0);
  assert.equal((await runCli(['--root', root, 'save', '-o', archive, 'crash'])).code, 0);
  const loadRoot = join(work, 'load-root');
  for (let i = 0; i < 10; i++) {
    const delay = Math.floor(random() * 400);
    await killAfter(['save', '-o', join(work, `partial-${i}.tar`), 'crash'], delay);
    await assertConsistent(root, `save at ${delay} ms`);
    await killAfter(['load', '-i', archive], Math.floor(random() * 400), loadRoot);
    await assertConsistent(loadRoot, `load (#${i})`);
  }
  const loaded = await runCli(['--root', loadRoot, 'load', '-i', archive]);
  assert.equal(loaded.code, 0, loaded.stderr);
  const run = await runCli(['--root', loadRoot, 'run', '--rm', 'crash', 'sh', '-c', 'wc -c < /big2']);
  assert.equal(run.stdout.trim(), String(3 << 20));
});

test('pulls killed at 10 random instants leave a consistent store; the next pull works', async () => {
  const name = `${registry.host}/crash/image:1`;
  assert.equal((await runCli(['--root', root, 'tag', 'crash', name])).code, 0);
  assert.equal((await runCli(['--root', root, 'push', name])).code, 0);
  const pullRoot = join(work, 'pull-root');
  for (let i = 0; i < 10; i++) {
    const delay = Math.floor(random() * 600);
    await killAfter(['pull', name], delay, pullRoot);
    await assertConsistent(pullRoot, `pull at ${delay} ms`);
  }
  const pulled = await runCli(['--root', pullRoot, 'pull', name]);
  assert.equal(pulled.code, 0, pulled.stderr);
  await assertConsistent(pullRoot, 'the final pull');
  const tmp = await readdir(join(pullRoot, 'tmp')).catch(() => []);
  assert.deepEqual(tmp, [], 'leftover temp files are cleaned on the next start');
});
