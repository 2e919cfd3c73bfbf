import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from '../../common/index.js';
import { cliPath, runCli } from '../../cli/tsbuild.js';
import { writeTree } from '../helpers/files.js';
import { debianWork } from '../helpers/debian.js';

// The classic container walkthrough (issue 8), exactly as a user types it, on a Debian
// base made locally with mmdebstrap, with the store on a fresh tmpfs (nothing depends on
// /var/lib). Each step is a test; they run in order and share the store.
const exec = promisify(execFile);
let root: string;
let work: string;
const tmux = `tsbuild-walkthrough-${process.pid}`;

/** Run `tsbuild ARGS` inside a real pty (util-linux `script`), as a user at a terminal would. */
function inPty(args: string[], timeoutMs = 120_000): { code: number; out: string } {
  const cmd = [process.execPath, cliPath, '--root', root, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qefc', cmd, '/dev/null'], { encoding: 'utf8', timeout: timeoutMs, input: '' });
  return { code: r.status ?? -1, out: r.stdout };
}

async function waitForPane(marker: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { stdout } = await exec('tmux', ['capture-pane', '-p', '-J', '-S', '-500', '-t', tmux]);
    if (marker.test(stdout)) return stdout;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${marker} in the container's terminal:\n${stdout}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

let release: () => void;

before(async () => {
  ({ work, root, release } = await debianWork());
});

after(async () => {
  spawnSync('tmux', ['kill-session', '-t', tmux]);
  release();
});

test('1. run -ti --rm debian echo prints Hello world through a pty', () => {
  const r = inPty(['run', '-ti', '--rm', 'debian', 'echo', 'Hello world']);
  assert.equal(r.code, 0, r.out);
  assert.equal(r.out, 'Hello world\r\n');
});

test('2. images lists debian latest with its unpacked size', async () => {
  const r = await runCli(['images'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE/);
  assert.match(r.stdout, /\ndebian\s+latest\s+[0-9a-f]{12}\s+.+\s+\d+(\.\d+)?MB\n/);
});

test('3. run of a missing executable: executable file not found in $PATH, exit 127', () => {
  const r = inPty(['run', '-ti', '--rm', 'debian', 'python3', '-V']);
  assert.equal(r.code, 127, r.out);
  assert.match(r.out, /exec: "python3": executable file not found in \$PATH/);
});

test('4. a manual image: install python3 in a container, ps, commit, tag, run it', async () => {
  spawnSync('tmux', ['kill-session', '-t', tmux]);
  const shellCmd = `${process.execPath} ${cliPath} --root ${root} run -ti debian`;
  await exec('tmux', ['new-session', '-d', '-s', tmux, '-x', '200', '-y', '50', shellCmd]);
  await waitForPane(/#\s*$/m, 30_000);
  await exec('tmux', ['send-keys', '-t', tmux, 'apt-get update -qq && apt-get install -y -qq python3 >/dev/null && echo INSTALL-$((40+2))', 'Enter']);
  await waitForPane(/INSTALL-42/, 600_000);

  const ps = await runCli(['ps'], { root });
  assert.equal(ps.code, 0, ps.stderr);
  const row = ps.stdout.split('\n').find((l) => /\sdebian\s/.test(l));
  assert.ok(row, `ps shows the running container:\n${ps.stdout}`);
  const [id] = row.split(/\s+/);
  assert.match(id, /^[0-9a-f]{12}$/);
  assert.match(row, /\s[a-z]+_[a-z]+\s*$/, 'a generated adjective_surname name');

  const commit = await runCli(['commit', id], { root });
  assert.equal(commit.code, 0, commit.stderr);
  assert.match(commit.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
  const images = await runCli(['images'], { root });
  assert.match(images.stdout, /\n<none>\s+<none>\s+([0-9a-f]{12})/);
  const shortId = commit.stdout.trim().slice(7, 19);
  assert.equal((await runCli(['tag', shortId, 'python-debian-manual'], { root })).code, 0);
  await exec('tmux', ['send-keys', '-t', tmux, 'exit', 'Enter']);

  const r = inPty(['run', '-ti', '--rm', 'python-debian-manual', 'python3', '-V']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /Python 3\.11\.\d+/);
});

test('5. the same image from a Dockerfile shares the debian base layer', async () => {
  const ctx = join(work, 'python-debian-auto');
  await writeTree(ctx, { Dockerfile: 'FROM debian\nRUN apt-get update && apt-get install -y python3\nCMD ["/bin/bash"]\n' });
  const b = await runCli(['build', '--progress', 'plain', '-t', 'python-debian-auto', ctx], { root, cwd: ctx });
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /\[2\/2\] RUN apt-get update && apt-get install -y python3/);
  const r = inPty(['run', '-ti', '--rm', 'python-debian-auto', 'python3', '-V']);
  assert.match(r.out, /Python 3\.11\.\d+/);
  const layers = async (name: string) =>
    (JSON.parse((await runCli(['inspect', name], { root })).stdout) as { RootFS: { Layers: string[] } }[])[0].RootFS.Layers;
  const base = await layers('debian');
  const auto = await layers('python-debian-auto');
  assert.equal(auto.length, base.length + 1);
  assert.deepEqual(auto.slice(0, base.length), base);
});

test('5b. glibc programs keep working in the sandbox: threads, subprocesses (clone3 falls back), DNS through the NAT', async () => {
  const script = [
    'import threading, subprocess, socket, os',
    'out = []',
    't = threading.Thread(target=lambda: out.append("thread")); t.start(); t.join()',
    'out.append("subprocess %d" % subprocess.run(["true"]).returncode)',
    'out.append("dns %s" % bool(socket.getaddrinfo("deb.debian.org", 80)))',
    'with open("/dev/null", "w") as f: f.write("x")',
    'out.append("pid %d" % os.getpid())',
    'print(" ".join(out))',
  ].join('\n');
  const r = await runCli(['run', '--rm', 'python-debian-auto', 'python3', '-c', script], { root });
  assert.equal(r.stdout, 'thread subprocess 0 dns True pid 1\n', r.stderr);
});

test('6. FROM scratch: images shows the size of the binary, run prints Hello world!', async () => {
  const fixture = join(projectRoot, 'fixtures', 'scratch-hello');
  const b = await runCli(['build', '-t', 'saluda', fixture], { root });
  assert.equal(b.code, 0, b.stderr);
  const images = await runCli(['images'], { root });
  const row = images.stdout.split('\n').find((l) => l.startsWith('saluda '));
  assert.ok(row, images.stdout);
  const size = (await stat(join(fixture, 'hello'))).size;
  const shown = /([\d.]+)kB\s*$/.exec(row!);
  assert.ok(shown, row);
  assert.ok(Math.abs(Number(shown![1]) * 1000 - size) <= 1000, `${row} vs ${size} bytes`);
  const r = inPty(['run', '--rm', '-ti', 'saluda']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /Hello world!/);
});
