import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { cliPath, runCli, type CliResult } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { eventually } from '../helpers/eventually.js';
import { onPty } from '../helpers/pty.js';
import { writeTree } from '../helpers/files.js';

// What a container's life looks like past its start, as Docker shows it: a foreground
// container's output is in `logs` too (moby daemon/logger: every container has a log
// driver, attached or not), and a foreground `run` whose CLI is killed does not leave the
// container running without anyone to stop it.
let root: string;
let work: string;

before(async () => {
  ({ root, work } = await busyboxWork('tsbuild-lifecycle-'));
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

/** A script that reports which of USR1, USR2, TERM came first and exits with its own code. */
const TRAPS = "trap 'echo got-usr1; exit 11' USR1; trap 'echo got-usr2; exit 12' USR2; trap 'echo got-term; exit 15' TERM; echo ready; while :; do sleep 0.1; done";

async function startTrapping(name: string, image: string, extra: string[] = []): Promise<void> {
  const r = await cli(['run', '-d', '--name', name, ...extra, image, 'sh', '-c', TRAPS]);
  assert.equal(r.code, 0, r.stderr);
  await eventually(async () => (await cli(['logs', name])).stdout === 'ready\n', `${name} set its traps`);
}

test('stop sends the image\'s STOPSIGNAL, --stop-signal overrides it, stop -s overrides both (moby daemon/stop.go)', async () => {
  const ctx = join(work, 'ctx-stopsignal');
  await writeTree(ctx, { Dockerfile: 'FROM busybox\nSTOPSIGNAL SIGUSR1\n' });
  const b = await cli(['build', '-q', '-t', 'stopsig', ctx]);
  assert.equal(b.code, 0, b.stderr);

  const cases = [
    { name: 'sig-image', run: [], stop: [], want: ['got-usr1', 11] },
    { name: 'sig-run', run: ['--stop-signal', 'USR2'], stop: [], want: ['got-usr2', 12] },
    { name: 'sig-stop', run: ['--stop-signal', 'USR2'], stop: ['-s', 'SIGTERM'], want: ['got-term', 15] },
  ] as const;
  for (const c of cases) {
    await startTrapping(c.name, 'stopsig', [...c.run]);
    const stop = await cli(['stop', '-t', '20', ...c.stop, c.name]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal((await cli(['logs', c.name])).stdout, `ready\n${c.want[0]}\n`, c.name);
    assert.equal((await cli(['inspect', '-f', '{{.State.ExitCode}}', c.name])).stdout, `${c.want[1]}\n`, c.name);
  }
  assert.equal((await cli(['inspect', '-f', '{{.Config.StopSignal}}', 'sig-run'])).stdout, 'USR2\n');
  await startTrapping('sig-restart', 'busybox', ['--stop-signal', 'SIGUSR2']);
  assert.equal((await cli(['restart', '-t', '20', 'sig-restart'])).code, 0);
  assert.match((await cli(['logs', 'sig-restart'])).stdout, /^ready\ngot-usr2\n/);

  const bad = await cli(['run', '--stop-signal', 'SIGNOPE', 'busybox', 'true']);
  assert.equal(bad.code, 125);
  assert.equal(bad.stderr.trim(), 'error[bad-signal]: Invalid signal: SIGNOPE');
  const badStop = await cli(['stop', '-s', 'NOPE', 'sig-image', 'sig-run']);
  assert.equal(badStop.code, 1);
  assert.equal(badStop.stderr.trim().split('\n').length, 1, badStop.stderr);
  for (const c of [...cases.map((x) => x.name), 'sig-restart']) await cli(['rm', '-f', c]);
});
