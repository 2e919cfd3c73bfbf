import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, lstat, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { cliPath, runCli, type CliResult } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { eventually } from '../helpers/eventually.js';
import { onPty } from '../helpers/pty.js';

// The verbs Docker users reach for once a container runs detached, checked against real
// containers: exec (moby daemon/exec.go: the container's env, user and cwd unless -e/-u/-w),
// logs (daemon/logs.go: --tail counts lines, -t prefixes RFC 3339 nano times), stop
// (daemon/stop.go: SIGTERM, then SIGKILL after -t), kill, wait, start, restart, rename,
// cp (docs: docker cp — placement rules, modes kept, owner of the receiving side),
// diff (A/C/D from the container's layer), top and container prune.
let work: string;
let root: string;

before(async () => {
  ({ work, root } = await busyboxWork('tsbuild-verbs-'));
});

const cli = (args: string[], input?: string): Promise<CliResult> => runCli(args, { root, input });

async function detached(name: string, script: string): Promise<void> {
  const r = await cli(['run', '-d', '--name', name, 'busybox', 'sh', '-c', script]);
  assert.equal(r.code, 0, r.stderr);
}

test('exec runs in the detached container: its processes, files, env, user and cwd; -u, -w, -e; 127 for a missing program', async () => {
  await detached('ex', 'echo made > /made; while :; do sleep 1; done');
  await eventually(async () => (await cli(['exec', 'ex', 'cat', '/made'])).stdout === 'made\n', 'the container wrote /made');
  const ps = await cli(['exec', 'ex', 'ps', '-o', 'pid,args']);
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, /^\s*1 sh -c echo made/m, 'pid 1 is the container\'s command');
  const who = await cli(['exec', '-u', 'nobody', '-w', '/tmp', '-e', 'GREETING=hi', 'ex', 'sh', '-c', 'id -u; pwd; echo $GREETING; echo $PATH; hostname']);
  assert.equal(who.code, 0, who.stderr);
  const [uid, cwd, greeting, path, host] = who.stdout.trim().split('\n');
  assert.deepEqual([uid, cwd, greeting], ['65534', '/tmp', 'hi']);
  assert.match(path, /\/usr\/bin/);
  const inspect = JSON.parse((await cli(['inspect', 'ex'])).stdout)[0];
  assert.equal(host, inspect.Id.slice(0, 12));
  const code = await cli(['exec', 'ex', 'sh', '-c', 'exit 7']);
  assert.equal(code.code, 7);
  const missing = await cli(['exec', 'ex', 'no-such-program']);
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /exec: "no-such-program": executable file not found in \$PATH/);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  assert.equal((await cli(['rm', '-f', 'ex'])).code, 0);
  const gone = await cli(['exec', 'ex', 'true']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /No such container: ex/);
});

test('exec -ti gives the command a pty of the container\'s own devpts, driven through script(1)', async () => {
  await detached('tty', 'while :; do sleep 1; done');
  const out = await onPty(`${cliPath} exec -ti tty sh -c 'tty; test -t 0 && echo stdin-is-a-tty; ls /proc/1/cmdline'`, { ...process.env, TSBUILD_ROOT: root });
  assert.match(out, /\/dev\/pts\/\d+/);
  assert.match(out, /stdin-is-a-tty/);
  assert.match(out, /\/proc\/1\/cmdline/);
  assert.equal((await cli(['exec', 'tty', 'sh', '-c', 'test -t 0 || echo not-a-tty'])).stdout, 'not-a-tty\n');
  const noTerminal = await cli(['exec', '-t', 'tty', 'true']);
  assert.equal(noTerminal.code, 1);
  assert.match(noTerminal.stderr, /the input device is not a TTY/);
  await cli(['rm', '-f', 'tty']);
});

test('logs keeps stdout and stderr apart, --tail counts lines, -t prefixes times, -f follows until the container ends', async () => {
  // The command waits on fifos: once stderr's line is kept (the two streams are two pipes,
  // so their order is only the order the test lets them happen in), and once to let logs -f start.
  await detached('talk', 'mkfifo /tmp/err.fifo /tmp/go.fifo; echo two >&2; read x < /tmp/err.fifo; echo one; echo three; read go < /tmp/go.fifo; echo after; exit 4');
  await eventually(async () => (await cli(['logs', 'talk'])).stderr === 'two\n', 'stderr was logged');
  assert.equal((await cli(['exec', 'talk', 'sh', '-c', 'echo go > /tmp/err.fifo'])).code, 0);
  await eventually(async () => (await cli(['logs', 'talk'])).stdout === 'one\nthree\n', 'the first lines were logged');
  const all = await cli(['logs', 'talk']);
  assert.equal(all.stderr, 'two\n');
  assert.equal((await cli(['logs', '--tail', '1', 'talk'])).stdout, 'three\n');
  const stamped = await cli(['logs', '-t', '--tail', '1', 'talk']);
  assert.match(stamped.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z three\n$/);
  const follower = spawn(cliPath, ['logs', '-f', 'talk'], { env: { ...process.env, TSBUILD_ROOT: root }, stdio: ['ignore', 'pipe', 'pipe'] });
  let followed = '';
  follower.stdout.on('data', (b: Buffer) => (followed += b.toString('utf8')));
  const ended = new Promise<number | null>((resolve) => follower.on('close', resolve));
  await eventually(async () => followed.includes('three\n'), 'logs -f printed what was there');
  assert.doesNotMatch(followed, /after/);
  // The container ends as soon as its pid 1 reads this; the exec'd sh may still be exiting
  // then, and dies with the pid namespace (137), as under Docker.
  const trigger = await cli(['exec', 'talk', 'sh', '-c', 'echo go > /tmp/go.fifo']);
  assert.ok(trigger.code === 0 || trigger.code === 137, `exec exited ${trigger.code}: ${trigger.stderr}`);
  assert.equal(await ended, 0);
  assert.equal(followed, 'one\nthree\nafter\n');
  assert.equal((await cli(['wait', 'talk'])).stdout, '4\n');
  const bad = await cli(['logs', '--tail', 'many', 'talk']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid value "many" for --tail/);
});

test('logs stay bounded: past --log-opt max-size the log moves aside once, and logs reads both parts in order', async () => {
  const r = await cli(['run', '-d', '--name', 'chatty', '--log-opt', 'max-size=4k', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await cli(['wait', 'chatty'])).stdout, '0\n');
  const logPath = JSON.parse((await cli(['inspect', 'chatty'])).stdout)[0].LogPath as string;
  for (const f of [logPath, `${logPath}.1`]) assert.ok((await lstat(f)).size <= 4096, `${f} is within max-size`);
  const lines = (await cliOut(['logs', 'chatty'])).trim().split('\n');
  assert.equal(lines.at(-1), 'line-1999');
  assert.notEqual(lines[0], 'line-0', 'the oldest output was dropped');
  const first = Number(lines[0].slice('line-'.length));
  assert.deepEqual(lines, Array.from({ length: 2000 - first }, (_, i) => `line-${first + i}`), 'what is kept is whole and in order');
  assert.equal(await cliOut(['logs', '--tail', '1', 'chatty']), 'line-1999\n');
  const bad = await cli(['run', '-d', '--log-opt', 'max-file=3', 'busybox', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /--log-opt max-file is not supported yet/);
});

test('stop sends SIGTERM first and SIGKILL once -t passed (a handler that does not exit: 137); a cooperative one exits its way', async () => {
  await detached('stubborn', "trap 'echo got-term' TERM; echo ready; while :; do sleep 0.1; done");
  await eventually(async () => (await cli(['logs', 'stubborn'])).stdout.includes('ready'), 'the trap is set');
  const stopped = await cli(['stop', '-t', '1', 'stubborn']);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.equal(stopped.stdout, 'stubborn\n');
  assert.match((await cli(['logs', 'stubborn'])).stdout, /got-term/, 'SIGTERM reached the command first');
  assert.equal((await cli(['wait', 'stubborn'])).stdout, '137\n');
  assert.match((await cli(['ps', '-a'])).stdout, /Exited \(137\).*stubborn/);
  // stop of a stopped container is no error (Docker's)
  assert.equal((await cli(['stop', 'stubborn'])).code, 0);

  await detached('polite', "trap 'exit 3' TERM; echo ready; while :; do sleep 0.1; done");
  await eventually(async () => (await cli(['logs', 'polite'])).stdout.includes('ready'), 'the trap is set');
  assert.equal((await cli(['stop', '-t', '30', 'polite'])).code, 0);
  assert.equal((await cli(['wait', 'polite'])).stdout, '3\n');
  const badTime = await cli(['stop', '-t', 'soon', 'polite']);
  assert.equal(badTime.code, 2);
  assert.match(badTime.stderr, /invalid argument "soon" for "-t, --time" flag/);
});

test('kill sends the signal asked for (a trapped USR1 is seen), SIGKILL by default; a stopped container is an error', async () => {
  await detached('target', "trap 'echo usr1' USR1; echo ready; while :; do sleep 0.1; done");
  await eventually(async () => (await cli(['logs', 'target'])).stdout.includes('ready'), 'the trap is set');
  assert.equal((await cli(['kill', '-s', 'USR1', 'target'])).stdout, 'target\n');
  await eventually(async () => (await cli(['logs', 'target'])).stdout.includes('usr1'), 'the trap ran');
  assert.equal((await cli(['kill', 'target'])).code, 0);
  assert.equal((await cli(['wait', 'target'])).stdout, '137\n');
  const again = await cli(['kill', 'target']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /cannot kill container: target: container [0-9a-f]{64} is not running/);
});

test('start runs a stopped container again in its own layer, restart too; rename keeps it; container prune removes the stopped ones', async () => {
  const r = await cli(['run', '--name', 'again', 'busybox', 'sh', '-c', 'echo run >> /runs; cat /runs | wc -l; test -e /stay || sleep 30']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '1');
  assert.equal((await cli(['rename', 'again', 'renamed'])).code, 0);
  assert.equal((await cli(['start', 'renamed'])).stdout, 'renamed\n');
  // The log keeps every run's output, the foreground first one's too, as Docker's does.
  await eventually(async () => (await cli(['logs', 'renamed'])).stdout === '1\n2\n', 'the second run counted its first');
  assert.match((await cli(['ps'])).stdout, /Up .*renamed/);
  assert.equal((await cli(['restart', '-t', '0', 'renamed'])).stdout, 'renamed\n');
  await eventually(async () => (await cli(['logs', 'renamed'])).stdout === '1\n2\n3\n', 'the restart ran it once more');
  await cli(['exec', 'renamed', 'touch', '/stay']);
  assert.equal((await cli(['stop', '-t', '0', 'renamed'])).code, 0);
  const sameName = await cli(['rename', 'renamed', 'renamed']);
  assert.equal(sameName.code, 1);
  assert.match(sameName.stderr, /Renaming a container with the same name as its current name/);
  await detached('keeper', 'sleep 60');
  const taken = await cli(['rename', 'renamed', 'keeper']);
  assert.match(taken.stderr, /Conflict. The container name "\/keeper" is already in use by container "[0-9a-f]{64}"/);
  const invalid = await cli(['rename', 'renamed', 'no/slash']);
  assert.match(invalid.stderr, /Invalid container name \(no\/slash\)/);

  const declined = await cli(['container', 'prune'], 'n\n');
  assert.match(declined.stdout, /WARNING! This will remove all stopped containers/);
  assert.match((await cli(['ps', '-a'])).stdout, /renamed/);
  const pruned = await cli(['container', 'prune', '-f']);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.match(pruned.stdout, /^Deleted Containers:\n([0-9a-f]{64}\n)+\nTotal reclaimed space: \d/);
  const left = (await cli(['ps', '-a'])).stdout;
  assert.doesNotMatch(left, /renamed/);
  assert.match(left, /keeper/, 'a running container stays');
  await cli(['rm', '-f', 'keeper']);
});

test('cp copies both ways keeping modes, into running and stopped containers; container symlinks stay inside', async () => {
  await detached('files', 'mkdir -p /srv/sub; echo data > /srv/sub/f; chmod 751 /srv/sub/f; chmod 710 /srv/sub; ln -s /etc /srv/etc-link; while :; do sleep 1; done');
  await eventually(async () => (await cli(['exec', 'files', 'test', '-L', '/srv/etc-link'])).code === 0, 'the files exist');
  const out = join(work, 'out');
  await mkdir(out);
  assert.equal((await cli(['cp', 'files:/srv/sub', out])).code, 0);
  assert.equal((await lstat(join(out, 'sub'))).mode & 0o7777, 0o710);
  assert.equal((await lstat(join(out, 'sub', 'f'))).mode & 0o7777, 0o751);
  assert.equal(await readFile(join(out, 'sub', 'f'), 'utf8'), 'data\n');
  // /srv/etc-link/passwd is the container's /etc/passwd, never the host's
  assert.equal((await cli(['cp', 'files:/srv/etc-link/passwd', join(out, 'passwd')])).code, 0);
  assert.equal(await readFile(join(out, 'passwd'), 'utf8'), await cliOut(['exec', 'files', 'cat', '/etc/passwd']));

  const host = join(work, 'host-file');
  await writeFile(host, 'from host\n');
  await chmod(host, 0o604);
  assert.equal((await cli(['cp', host, 'files:/srv/'])).code, 0);
  assert.equal(await cliOut(['exec', 'files', 'stat', '-c', '%a %u:%g %s', '/srv/host-file']), '604 0:0 10\n');
  assert.equal((await cli(['stop', '-t', '0', 'files'])).code, 0);
  // stopped: through an overlay of its layer
  assert.equal((await cli(['cp', host, 'files:/srv/sub/while-stopped'])).code, 0);
  assert.equal((await cli(['cp', 'files:/srv/sub/while-stopped', join(out, 'back')])).code, 0);
  assert.equal((await lstat(join(out, 'back'))).mode & 0o7777, 0o604);
  assert.equal(await readFile(join(out, 'back'), 'utf8'), 'from host\n');
  const missing = await cli(['cp', 'files:/no/such', out]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Could not find the file \/no\/such in container [0-9a-f]{64}/);
  const dirToFile = await cli(['cp', 'files:/srv', join(out, 'passwd')]);
  assert.match(dirToFile.stderr, /cannot copy a directory to a file/);
  const both = await cli(['cp', 'files:/a', 'files:/b']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /copying between containers is not supported/);
  await cli(['rm', 'files']);
});

async function cliOut(args: string[]): Promise<string> {
  const r = await cli(args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('diff lists what the container added, changed and deleted since the image; top shows its processes', async () => {
  const r = await cli(['run', '--name', 'changed', 'busybox', 'sh', '-c', 'mkdir /new; echo x > /new/file; echo more >> /etc/passwd; rm /etc/group']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await cliOut(['diff', 'changed']), 'C /etc\nD /etc/group\nC /etc/passwd\nA /new\nA /new/file\n');
  // rm -rf of an image dir then mkdir again makes it opaque in the upper: what the image had
  // below it is deleted unless made again (moby pkg/archive/changes.go ChangesDirs compares the trees).
  const ctx = join(work, 'ctx-opaque');
  await writeFile(join(work, 'Dockerfile.opaque'), 'FROM busybox\nRUN mkdir -p /data/sub && echo a > /data/a && echo b > /data/b && echo c > /data/sub/c\n');
  await mkdir(ctx, { recursive: true });
  assert.equal((await cli(['build', '-q', '-t', 'with-data', '-f', join(work, 'Dockerfile.opaque'), ctx])).code, 0);
  const redo = await cli(['run', '--name', 'opaque', 'with-data', 'sh', '-c', 'rm -rf /data && mkdir /data && echo again > /data/a && echo n > /data/new']);
  assert.equal(redo.code, 0, redo.stderr);
  assert.equal(await cliOut(['diff', 'opaque']), 'C /data\nC /data/a\nD /data/b\nA /data/new\nD /data/sub\n');
  await cli(['rm', 'opaque']);
  await detached('busy', 'sleep 60');
  const top = await cliOut(['top', 'busy']);
  const [head, ...rows] = top.trim().split('\n');
  assert.deepEqual(head.trim().split(/\s+/), ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.equal(rows.length, 1, top);
  assert.match(rows[0], /^root\s+\d+\s+\d+\s+\d+\s+\d\d:\d\d\s+\?\s+\d\d:\d\d:\d\d\s+sleep 60$/);
  await cli(['rm', '-f', 'busy']);
  const stopped = await cli(['top', 'changed']);
  assert.equal(stopped.code, 1);
  assert.match(stopped.stderr, /container [0-9a-f]{64} is not running/);
});
