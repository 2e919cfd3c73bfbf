import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { cliPath, runCli, type CliResult } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { eventually } from '../helpers/eventually.js';
import { onPty } from '../helpers/pty.js';

// `run --init` as Docker does it (moby daemon/oci_linux.go WithInit: docker-init bound at
// /sbin/docker-init, the process `/sbin/docker-init -- CMD...`; tini's own job: forward
// signals, reap zombies, exit with the command's status), against real containers. Each
// behaviour is also checked without --init, so that the test shows what the init changes.
let root: string;

before(async () => {
  ({ root } = await busyboxWork('tsbuild-init-'));
});

const cli = (args: string[]): Promise<CliResult> => runCli(args, { root });

test('with --init pid 1 is /sbin/docker-init -- CMD and the command is pid 2; without, the command is pid 1', async () => {
  const withInit = await cli(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'echo $$; tr "\\0" " " < /proc/1/cmdline; echo; ls -l /sbin/docker-init']);
  assert.equal(withInit.code, 0, withInit.stderr);
  const [pid, cmdline, ls] = withInit.stdout.split('\n');
  assert.equal(pid, '2');
  assert.equal(cmdline, '/sbin/docker-init -- sh -c echo $$; tr "\\0" " " < /proc/1/cmdline; echo; ls -l /sbin/docker-init ');
  assert.match(ls, /^-r-xr-xr-x|^-rwxr-xr-x/);
  const ro = await cli(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'echo x > /sbin/docker-init']);
  assert.notEqual(ro.code, 0, 'the init is bound read-only');
  assert.match(ro.stderr, /Read-only file system/);
  const without = await cli(['run', '--rm', 'busybox', 'sh', '-c', 'echo $$; test -e /sbin/docker-init || echo no-init']);
  assert.equal(without.stdout, '1\nno-init\n');
});

test('exit codes pass through the init: a status, 128+N for a signal, 127 for a missing program', async () => {
  assert.equal((await cli(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'exit 7'])).code, 7);
  assert.equal((await cli(['run', '--rm', '--init', 'busybox', 'true'])).code, 0);
  assert.equal((await cli(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'kill -9 $$'])).code, 137);
  const missing = await cli(['run', '--rm', '--init', 'busybox', 'no-such-program']);
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /no-such-program/);
});

/** Zombies in the container, counted from /proc through exec. */
async function zombies(name: string): Promise<number> {
  const r = await cli(['exec', name, 'sh', '-c', 'grep -l "^State:.Z" /proc/[0-9]*/status | wc -l']);
  assert.equal(r.code, 0, r.stderr);
  return Number(r.stdout.trim());
}

test('an orphaned grandchild that ends is reaped by the init; without it, it stays a zombie of a pid 1 that never waits', async () => {
  // The orphan touches /done and ends after its parent did; the command then never waits.
  const script = 'sh -c "(sleep 0.3; touch /done) &"; exec sleep 1000';
  for (const init of [true, false]) {
    const name = init ? 'reaped' : 'unreaped';
    const r = await cli(['run', '-d', '--name', name, ...(init ? ['--init'] : []), 'busybox', 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    await eventually(async () => (await cli(['exec', name, 'test', '-e', '/done'])).code === 0, 'the orphan ran');
    if (init) await eventually(async () => (await zombies(name)) === 0, 'the orphan was reaped');
    else await eventually(async () => (await zombies(name)) === 1, 'the orphan is a zombie');
    assert.equal(await zombies(name), init ? 0 : 1);
    assert.equal((await cli(['rm', '-f', name])).code, 0);
  }
});

test('stop: SIGTERM ends a shell through the init (143); without it the shell as pid 1 ignores TERM until SIGKILL (137)', async () => {
  for (const init of [true, false]) {
    const name = init ? 'term-init' : 'term-plain';
    const r = await cli(['run', '-d', '--name', name, ...(init ? ['--init'] : []), 'busybox', 'sh', '-c', 'echo ready; sleep 1000']);
    assert.equal(r.code, 0, r.stderr);
    await eventually(async () => (await cli(['logs', name])).stdout.includes('ready'), 'the command runs');
    assert.equal((await cli(['stop', '-t', '2', name])).code, 0);
    assert.equal((await cli(['wait', name])).stdout, init ? '143\n' : '137\n');
    assert.equal((await cli(['rm', name])).code, 0);
  }
});

test('kill -s USR1 reaches a trap of the command through the init', async () => {
  const r = await cli(['run', '-d', '--name', 'usr1', '--init', 'busybox', 'sh', '-c', "trap 'echo got-usr1; exit 5' USR1; echo ready; while :; do sleep 0.1; done"]);
  assert.equal(r.code, 0, r.stderr);
  await eventually(async () => (await cli(['logs', 'usr1'])).stdout.includes('ready'), 'the trap is set');
  assert.equal((await cli(['kill', '-s', 'USR1', 'usr1'])).code, 0);
  assert.equal((await cli(['wait', 'usr1'])).stdout, '5\n');
  assert.match((await cli(['logs', 'usr1'])).stdout, /got-usr1/);
  assert.equal((await cli(['rm', 'usr1'])).code, 0);
});

test('run --init -t: the command owns the pty (its foreground process group), driven through script(1)', async () => {
  const out = await onPty(`${cliPath} run --rm --init -ti busybox sh -c 'test -t 0 && echo stdin-is-a-tty; read -r pid comm state ppid pgrp session tty tpgid rest < /proc/\$\$/stat; echo pid=\$pid pgrp=\$pgrp tpgid=\$tpgid'`, { ...process.env, TSBUILD_ROOT: root });
  assert.match(out, /stdin-is-a-tty/);
  // tini's isolate_child: the command's own process group is the terminal's foreground one
  assert.match(out, /pid=2 pgrp=2 tpgid=2/, 'the command leads the foreground process group');
});
