import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { before, test } from 'node:test';
import { cliPath, runCli, type CliResult } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { eventually } from '../helpers/eventually.js';
import { onPty } from '../helpers/pty.js';

// What a container's life looks like past its start, as Docker shows it: a foreground
// container's output is in `logs` too (moby daemon/logger: every container has a log
// driver, attached or not), and a foreground `run` whose CLI is killed does not leave the
// container running without anyone to stop it.
let root: string;

before(async () => {
  ({ root } = await busyboxWork('tsbuild-lifecycle-'));
});

const cli = (args: string[], input?: string): Promise<CliResult> => runCli(args, { root, input });

/** Pids of the host's processes whose argv is exactly `argv`. */
async function processesRunning(argv: string[]): Promise<number[]> {
  const want = argv.join('\0') + '\0';
  const found: number[] = [];
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const cmd = await readFile(`/proc/${d}/cmdline`, 'utf8').catch(() => '');
    if (cmd === want) found.push(Number(d));
  }
  return found;
}

test('logs of a foreground container shows what it printed to the terminal, stdout and stderr apart', async () => {
  const r = await cli(['run', '--name', 'fg-logs', 'busybox', 'sh', '-c', 'echo to-out; echo to-err >&2; echo more-out']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'to-out\nmore-out\n');
  assert.equal(r.stderr, 'to-err\n');
  const logs = await cli(['logs', 'fg-logs']);
  assert.equal(logs.code, 0, logs.stderr);
  assert.equal(logs.stdout, 'to-out\nmore-out\n');
  assert.equal(logs.stderr, 'to-err\n');
  const tail = await cli(['logs', '--tail', '1', 'fg-logs']);
  assert.equal((tail.stdout + tail.stderr).split('\n').filter(Boolean).length, 1, tail.stdout + tail.stderr); // the streams' order is the relay's
  assert.equal((await cli(['rm', 'fg-logs'])).code, 0);
  // With a pty Docker logs the terminal's bytes as stdout, \r\n included.
  const screen = await onPty(`${cliPath} run -ti --name fg-tty busybox echo on-the-pty`, { ...process.env, TSBUILD_ROOT: root });
  assert.match(screen, /on-the-pty/);
  assert.equal((await cli(['logs', 'fg-tty'])).stdout, 'on-the-pty\r\n');
  assert.equal((await cli(['rm', 'fg-tty'])).code, 0);
});

/** Start `tsbuild run ARGS` in the background, wait until the container runs `argv`, then SIGKILL the CLI. */
async function killCliOf(args: string[], argv: string[]): Promise<void> {
  const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, TSBUILD_ROOT: root }, stdio: 'ignore' });
  const closed = new Promise((r) => child.on('close', r));
  await eventually(async () => (await processesRunning(argv)).length === 1, `${argv.join(' ')} runs`);
  child.kill('SIGKILL');
  await closed;
}

test('SIGKILL of the CLI of a foreground run ends the container, which then shows as exited (137)', async () => {
  const argv = ['sleep', '86401'];
  await killCliOf(['run', '--name', 'orphan', 'busybox', ...argv], argv);
  await eventually(async () => (await processesRunning(argv)).length === 0, 'the container\'s process is gone');
  await eventually(async () => /Exited \(137\)/.test((await cli(['ps', '-a', '--filter', 'name=orphan'])).stdout), 'ps -a shows it exited');
  assert.equal((await cli(['rm', 'orphan'])).code, 0);
});

test('SIGKILL of the CLI of a foreground run --rm ends the container and removes it', async () => {
  const argv = ['sleep', '86402'];
  await killCliOf(['run', '--rm', '--name', 'orphan-rm', 'busybox', ...argv], argv);
  await eventually(async () => (await processesRunning(argv)).length === 0, 'the container\'s process is gone');
  await eventually(async () => (await cli(['ps', '-a', '-q', '--filter', 'name=orphan-rm'])).stdout === '', 'the container is removed');
});

test('SIGKILL of script(1) around run -ti ends the container too', async () => {
  const argv = ['sleep', '86403'];
  const child = spawn('script', ['-qfec', `${process.execPath} ${cliPath} run -ti --rm --name orphan-tty busybox ${argv.join(' ')}`, '/dev/null'], {
    env: { ...process.env, TSBUILD_ROOT: root },
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const closed = new Promise((r) => child.on('close', r));
  await eventually(async () => (await processesRunning(argv)).length === 1, 'the container runs under script');
  child.kill('SIGKILL');
  await closed;
  await eventually(async () => (await processesRunning(argv)).length === 0, 'the container\'s process is gone');
  await eventually(async () => (await cli(['ps', '-a', '-q', '--filter', 'name=orphan-tty'])).stdout === '', 'the container is removed');
});
