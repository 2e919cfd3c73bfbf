import assert from 'node:assert/strict';
import { chmodSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { runContainer } from '../../executor/container.js';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeSandbox, runIn, sh } from './busybox-rootfs.js';

let box: { dir: string; lower: string };
before(() => {
  box = makeSandbox();
  writeFileSync(join(box.lower, 'bin', 'not-exec'), '#!/bin/sh\necho hi\n');
  chmodSync(join(box.lower, 'bin', 'not-exec'), 0o644);
});
after(() => rmSync(box.dir, { recursive: true, force: true }));

for (const code of [0, 1, 2, 42, 125, 126, 127, 255]) {
  test(`the command's exit code ${code} passes through`, async () => {
    const r = await sh(box.dir, box.lower, `exit ${code}`);
    assert.deepEqual(r.result, { kind: 'exited', code });
  });
}

/** Run `sh -c script`, and once the container runs, call `act` with the helper's pid. */
async function withRunning(script: string, act: (helperPid: number) => void) {
  const { mkdirSync } = await import('node:fs');
  const id = Math.random().toString(36).slice(2);
  const [upperDir, workDir, mountPoint, etcDir] = ['u', 'w', 'm', 'e'].map((x) => join(box.dir, `${x}-${id}`));
  for (const d of [upperDir, workDir, mountPoint, etcDir]) mkdirSync(d);
  return runContainer(
    {
      rootfs: { kind: 'overlay', lowerDirs: [box.lower], upperDir, workDir },
      mountPoint, etcDir, argv: ['sh', '-c', script], env: ['PATH=/bin'], cwd: '/',
      user: { uid: 0, gid: 0, groups: [] }, hostname: 'x', network: 'host', tty: false, interactive: false,
    },
    { stdin: 'ignore', stdout: 'ignore', onStart: ({ pid }) => setTimeout(() => act(pid), 300) },
  );
}

test('a command killed by a signal reports the signal (128+N from the helper)', async () => {
  const result = await withRunning('sleep 30', (helper) => {
    // The container's pid 1 is the helper's only child; SIGKILL from outside always lands.
    const child = Number(readFileSync(`/proc/${helper}/task/${helper}/children`, 'utf8').trim());
    process.kill(child, 'SIGKILL');
  });
  assert.deepEqual(result, { kind: 'signaled', signal: 9 });
});

test('SIGTERM sent to the helper is forwarded to the container\'s pid 1', async () => {
  const result = await withRunning('trap "exit 3" TERM; while :; do sleep 0.05; done', (helper) => process.kill(helper, 'SIGTERM'));
  assert.deepEqual(result, { kind: 'exited', code: 3 });
});

test('a command not in PATH is 127 with Docker\'s message', async () => {
  const r = await runIn(box.dir, [box.lower], ['python3', '-V']);
  assert.deepEqual(r.result, {
    kind: 'setup-failed',
    code: 127,
    reason: 'exec ENOENT python3',
    message: 'exec: "python3": executable file not found in $PATH',
  });
});

test('a missing absolute path is 127', async () => {
  const r = await runIn(box.dir, [box.lower], ['/nope/x']);
  assert.equal(r.result.kind, 'setup-failed');
  assert.equal(r.result.kind === 'setup-failed' && r.result.code, 127);
  assert.match(r.result.kind === 'setup-failed' ? r.result.message : '', /stat \/nope\/x: no such file or directory/);
});

test('a file without the execute bit is 126, permission denied', async () => {
  const r = await runIn(box.dir, [box.lower], ['/bin/not-exec']);
  assert.equal(r.result.kind === 'setup-failed' && r.result.code, 126);
  assert.equal(r.result.kind === 'setup-failed' && r.result.message, 'exec: "/bin/not-exec": permission denied');
});

test('a directory as the command is 126', async () => {
  const r = await runIn(box.dir, [box.lower], ['/etc']);
  assert.equal(r.result.kind === 'setup-failed' && r.result.code, 126);
});

test('a working dir that is a file fails with Docker\'s chdir message', async () => {
  const r = await runIn(box.dir, [box.lower], ['true'], { cwd: '/etc/passwd' });
  assert.deepEqual(r.result, {
    kind: 'setup-failed',
    code: 125,
    reason: 'chdir ENOTDIR /etc/passwd',
    message: 'chdir to cwd ("/etc/passwd") set in config.json failed: not a directory',
  });
});

test('a missing working dir is created, and lands in the upper dir', async () => {
  const r = await runIn(box.dir, [box.lower], ['pwd'], { cwd: '/srv/app/deep' });
  assert.equal(r.stdout, '/srv/app/deep\n');
  assert.ok(statSync(join(r.upperDir, 'srv/app/deep')).isDirectory());
});

test('the environment is exactly the spec\'s', async () => {
  const env = ['PATH=/bin', 'A=1', 'WITH_SPACE=a b', 'EMPTY='];
  const r = await runIn(box.dir, [box.lower], ['env'], { env });
  assert.deepEqual(r.stdout.trim().split('\n').sort(), [...env].sort());
});

test('uid, gid and supplementary groups are applied', async () => {
  const r = await runIn(box.dir, [box.lower], ['id'], { user: { uid: 1000, gid: 1001, groups: [20, 30] } });
  assert.equal(r.stdout.trim(), 'uid=1000 gid=1001 groups=20,30');
});

test('stdin reaches the command through a pipe', async () => {
  const r = await runIn(box.dir, [box.lower], ['cat'], { input: 'hello\n' });
  assert.equal(r.stdout, 'hello\n');
});
