import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { projectRoot } from '../../common/index.js';
import { cliPath, runCli } from '../../cli/tsbuild.js';

let root: string;
const cli = (args: string[], input?: string) => runCli(args, { root, input });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Container dirs left in the store (ids only; `names/` holds name links). */
function containerDirs(): string[] {
  return readdirSync(join(root, 'containers')).filter((n) => n !== 'names');
}
function nameLinks(): string[] {
  return existsSync(join(root, 'containers', 'names')) ? readdirSync(join(root, 'containers', 'names')) : [];
}

function recordOf(name: string): { id: string; pid?: number } {
  for (const id of containerDirs()) {
    const rec = JSON.parse(readFileSync(join(root, 'containers', id, 'config.json'), 'utf8')) as { id: string; name: string; pid?: number };
    if (rec.name === name) return rec;
  }
  throw new Error(`no container ${name}`);
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'tsbuild-cli-run-'));
  execFileSync('sh', [join(projectRoot, 'fixtures', 'busybox', 'make.sh')], {
    env: { ...process.env, TSBUILD: `${process.execPath} ${cliPath}`, TSBUILD_ROOT: root },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
});
after(() => rmSync(root, { recursive: true, force: true }));

test('run --rm prints the output, passes the exit code and leaves nothing behind', async () => {
  const r = await cli(['run', '--rm', 'busybox', 'sh', '-c', 'echo hi; exit 3']);
  assert.equal(r.stdout, 'hi\n');
  assert.equal(r.code, 3);
  assert.deepEqual(containerDirs(), []);
  assert.deepEqual(nameLinks(), []);
});

test('a relative --root works for run', async () => {
  const r = await runCli(['--root', basename(root), 'run', '--rm', 'busybox', 'echo', 'relative'], { cwd: dirname(root) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'relative\n');
  assert.deepEqual(containerDirs(), []);
});

test('image defaults and flags: -e, -u, -w, --hostname, HOME, exact env', async () => {
  const r = await cli(['run', '--rm', '-e', 'A=1', '-u', 'nobody', '-w', '/work/dir', '--hostname', 'hn', 'busybox', 'sh', '-c', 'echo $A; id -u; pwd; hostname; env | sort']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines.slice(0, 4), ['1', '65534', '/work/dir', 'hn']);
  assert.deepEqual(lines.slice(4).filter((l) => !l.startsWith('PWD=') && !l.startsWith('SHLVL=')), [
    'A=1',
    'HOME=/home',
    'HOSTNAME=hn',
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  ]);
});

test('a command not found is exit 127 with Docker\'s message; the container stays Created', async () => {
  const r = await cli(['run', '--name', 'nf', 'busybox', 'python3']);
  assert.equal(r.code, 127);
  assert.match(r.stderr, /exec: "python3": executable file not found in \$PATH/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  const ps = await cli(['ps', '-a']);
  assert.match(ps.stdout, /Created\s+nf\n/);
  assert.equal((await cli(['rm', 'nf'])).code, 0);
});

test('not executable is 126, a bad working dir is 125', async () => {
  assert.equal((await cli(['run', '--rm', 'busybox', '/etc/passwd'])).code, 126);
  const r = await cli(['run', '--rm', '-w', '/etc/passwd', 'busybox', 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /chdir to cwd \("\/etc\/passwd"\) set in config.json failed: not a directory/);
});

test('a signal ends the container as 128+N', async () => {
  const r = await cli(['run', '--rm', 'busybox', 'sh', '-c', 'sleep 5 & kill -TERM $!; wait $!']);
  assert.equal(r.code, 143);
});

test('-t without a terminal on stdin is Docker\'s TTY error, exit 1', async () => {
  const r = await cli(['run', '-t', 'busybox', 'true']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the input device is not a TTY/);
});

test('an image not in the store is "Unable to find image … locally"', async () => {
  const r = await cli(['run', '--rm', 'nosuchimage', 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /Unable to find image 'nosuchimage:latest' locally/);
});

test('-i pipes stdin to the command', async () => {
  const r = await cli(['run', '--rm', '-i', 'busybox', 'wc', '-l'], 'a\nb\nc\n');
  assert.equal(r.stdout.trim(), '3');
});

test('--network none: only lo', async () => {
  const r = await cli(['run', '--rm', '--network', 'none', 'busybox', 'ls', '/sys/class/net']);
  assert.equal(r.stdout, 'lo\n');
});

test('ps shows a running container like Docker; rm refuses it without -f', async () => {
  const child = spawn(process.execPath, [cliPath, 'run', '--name', 'sleeper', 'busybox', 'sleep', '30'], {
    env: { ...process.env, TSBUILD_ROOT: root },
    stdio: 'ignore',
  });
  try {
    await waitFor('ps to show sleeper', async () => (await cli(['ps'])).stdout.includes('sleeper'));
    const ps = await cli(['ps']);
    const [header, row] = ps.stdout.split('\n');
    assert.match(header, /^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$/);
    assert.match(row, /^[a-f0-9]{12} +busybox +"sleep 30" +(Less than a second|\d+ seconds?) ago +Up .+ +sleeper$/);
    const refused = await cli(['rm', 'sleeper']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /container is running/);
    const forced = await cli(['rm', '-f', 'sleeper']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.stdout, 'sleeper\n');
    assert.doesNotMatch((await cli(['ps', '-a'])).stdout, /sleeper/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('a container whose helper died shows as exited, never a stale "running"', async () => {
  const child = spawn(process.execPath, [cliPath, 'run', '--name', 'orphan', 'busybox', 'sleep', '30'], {
    env: { ...process.env, TSBUILD_ROOT: root },
    stdio: 'ignore',
  });
  await waitFor('orphan to run', async () => (await cli(['ps'])).stdout.includes('orphan') && recordOf('orphan').pid !== undefined);
  const pid = recordOf('orphan').pid!;
  process.kill(child.pid!, 'SIGKILL');
  process.kill(pid, 'SIGKILL'); // the helper: its container dies with it
  await waitFor('orphan to show exited', async () => /Exited \(\w+\)\s+orphan/.test((await cli(['ps', '-a'])).stdout));
  assert.doesNotMatch((await cli(['ps'])).stdout, /orphan/);
  assert.equal((await cli(['rm', 'orphan'])).code, 0);
});

test('run --rm leaves nothing behind even when tsbuild is SIGKILLed', async () => {
  const child = spawn(process.execPath, [cliPath, 'run', '--rm', '--name', 'doomed', 'busybox', 'sleep', '1'], {
    env: { ...process.env, TSBUILD_ROOT: root },
    stdio: 'ignore',
  });
  await waitFor('the container to run', () => nameLinks().includes('doomed'));
  await sleep(200);
  child.kill('SIGKILL');
  await waitFor('the container dir and name to go', () => containerDirs().length === 0 && nameLinks().length === 0);
});

test('-d starts a container in the background; ps shows it Up', async () => {
  const r = await cli(['run', '-d', '--name', 'bg', 'busybox', 'sleep', '30']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^[a-f0-9]{64}\n$/);
  await waitFor('bg to be up', async () => /Up .+bg\n/.test((await cli(['ps'])).stdout));
  assert.equal((await cli(['rm', '-f', 'bg'])).code, 0);
});

test('commit of a running container, then run of the new image sees the change', async () => {
  const child = spawn(process.execPath, [cliPath, 'run', '--name', 'builder', 'busybox', 'sh', '-c', 'echo changed > /root/mark; rm /etc/group; sleep 30'], {
    env: { ...process.env, TSBUILD_ROOT: root },
    stdio: 'ignore',
  });
  try {
    await waitFor('the change in the upper dir', () =>
      containerDirs().some((id) => existsSync(join(root, 'containers', id, 'upper', 'root', 'mark'))),
    );
    await sleep(100);
    const c = await cli(['commit', 'builder', 'marked:v1']);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^sha256:[a-f0-9]{64}\n$/);
    const r = await cli(['run', '--rm', 'marked:v1', 'sh', '-c', 'cat /root/mark; test -e /etc/group || echo group-gone']);
    assert.equal(r.stdout, 'changed\ngroup-gone\n');
    const byId = await cli(['run', '--rm', c.stdout.trim().slice(7, 19), 'cat', '/root/mark']);
    assert.equal(byId.stdout, 'changed\n');
    // skopeo reads the committed image: the base layer plus the container's.
    const info = JSON.parse(execFileSync('skopeo', ['inspect', `oci:${root}/oci:docker.io/library/marked:v1`], { encoding: 'utf8' })) as { Layers: string[] };
    assert.equal(info.Layers.length, 2);
  } finally {
    await cli(['rm', '-f', 'builder']);
    child.kill('SIGKILL');
  }
});

test('run -ti through a real pty echoes typed input', async () => {
  const out = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
    const p = spawn('script', ['-qfec', `${process.execPath} ${cliPath} run -ti --rm busybox sh`, '/dev/null'], {
      env: { ...process.env, TSBUILD_ROOT: root },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let text = '';
    p.stdout.on('data', (b: Buffer) => (text += b.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, text }));
    const keys = ['echo typed-$((6*7))\n', 'exit 5\n'];
    let i = 0;
    const next = () => {
      if (i < keys.length) {
        p.stdin.write(keys[i++]);
        setTimeout(next, 500);
      }
    };
    setTimeout(next, 1500);
  });
  assert.equal(out.code, 5, out.text);
  assert.match(out.text, /echo typed-\$\(\(6\*7\)\)/);
  assert.match(out.text, /typed-42/);
});
