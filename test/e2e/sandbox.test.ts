/**
 * The sandbox, tried as an attacker would: a static probe (fixtures/probe/probe.c) inside a
 * RUN step and inside `tsbuild run`, each attack asserted by the errno it gets. The expected
 * outcomes are Docker's defaults: moby's seccomp profile (vendor/github.com/moby/profiles/
 * seccomp/default.json), its device filter (daemon/oci_linux.go WithDevices) and a private
 * network namespace; BuildKit's entitlements for the opt-ins (network.host, security.insecure).
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFile, readdir, readFile } from 'node:fs/promises';
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { cliPath, runCli, type CliResult } from '../../cli/tsbuild.js';
import { helperPath, projectRoot } from '../../common/index.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree } from '../helpers/files.js';
import { makeLoopDevice } from '../helpers/loop-device.js';
import { ATTACKS, fillAttack, parseProbes, probeScript } from '../helpers/sandbox-attacks.js';

const exec = promisify(execFile);
const PROBE = join(projectRoot, 'fixtures', 'probe', 'probe');
const SECRET = 'HOST-LOOP-SECRET-8c1f';
const BANNER = 'host-only-service';
const MARKER = 'Authorization: Bearer sniff-me-5d2a';

let work: string;
let root: string;
let loop: ReturnType<typeof makeLoopDevice>;
let server: Server;
let abstract: Server;
let port: number;
const abstractName = `tsbuild-sandbox-${process.pid}`;

before(async () => {
  ({ work, root } = await busyboxWork('tsbuild-sandbox-'));
  const ctx = join(work, 'probe-ctx');
  await writeTree(ctx, { Dockerfile: 'FROM busybox\nCOPY probe /probe\n' });
  await copyFile(PROBE, join(ctx, 'probe'));
  const r = await runCli(['build', '-q', '-t', 'probe-img', ctx], { root });
  assert.equal(r.code, 0, r.stderr);
  // A host loop device over a file holding a secret: what `mknod b 7 N` would reach.
  loop = makeLoopDevice(join(work, 'loop-backing'), SECRET);
  // A service on the host's loopback and an abstract unix socket: neither may be reachable.
  // A client may be gone before the banner is written (EPIPE): that is no failure here.
  server = createServer((s) => s.on('error', () => undefined).end(`${BANNER}\n`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
  abstract = createServer((s) => s.on('error', () => undefined).end(`${BANNER}\n`));
  await new Promise<void>((r) => abstract.listen(`\0${abstractName}`, r));
});

after(() => {
  server?.close();
  abstract?.close();
  loop?.detach();
});

async function build(name: string, dockerfile: string, args: string[] = []): Promise<CliResult> {
  const ctx = join(work, `ctx-${name}`);
  await writeTree(ctx, { Dockerfile: dockerfile });
  return runCli(['build', '--progress', 'plain', '-t', name, ...args, ctx], { root });
}

async function run(args: string[]): Promise<CliResult> {
  return runCli(['run', '--rm', ...args], { root });
}

/** Each probe once in a RUN step and once in `tsbuild run`: `{ run: {i: out}, build: {i: out} }`. */
async function probeBoth(rows: { cmd: string }[]): Promise<{ build: string[]; run: string[] }> {
  const script = probeScript(rows);
  const parse = parseProbes;
  const b = await build(`probes-${rows.length}`, `FROM probe-img\nRUN sh -c '${script.replace(/'/g, `'\\''`)}' > /result\n`, ['--no-cache']);
  assert.equal(b.code, 0, b.stderr);
  const fromBuild = await run([`probes-${rows.length}`, 'cat', '/result']);
  const fromRun = await run(['probe-img', 'sh', '-c', script]);
  assert.equal(fromRun.code, 0, fromRun.stderr);
  return { build: parse(fromBuild.stdout), run: parse(fromRun.stdout) };
}


const filled = (cmd: string) => fillAttack(cmd, { minor: loop.minor, port, abstract: abstractName, pid: process.pid });

let results: Promise<{ build: string[]; run: string[] }> | undefined;
const probed = () => (results ??= probeBoth(ATTACKS.map((a) => ({ cmd: filled(a.cmd) }))));

for (const [i, row] of ATTACKS.entries()) {
  test(`sandbox: ${row.name}, as a RUN step and in tsbuild run`, async () => {
    const { build: b, run: r } = await probed();
    const check = (got: string | undefined, where: string) =>
      typeof row.want === 'string' ? assert.equal(got, row.want, `${where}: ${row.name}`) : assert.match(got ?? '', row.want, `${where}: ${row.name}`);
    check(b[i], 'RUN');
    check(r[i], 'run');
  });
}

test('file churn keeps working in a RUN step: 2,000 files made, archived, copied, listed, removed', async () => {
  const b = await build('churn', 'FROM busybox\nRUN mkdir /w && cd /w && for i in $(seq 1 2000); do echo $i > f$i; done && tar -cf /t.tar . && mkdir /c && cp -a /w/. /c/ && find /c -type f | wc -l > /n && rm -rf /w /c\n', ['--no-cache']);
  assert.equal(b.code, 0, b.stderr);
  assert.equal((await run(['churn', 'sh', '-c', 'cat /n; tar -tf /t.tar | grep -c "^./f"'])).stdout.replace(/ /g, ''), '2000\n2000\n');
});

test('seccomp is in filter mode (Seccomp: 2) in a RUN step and in run', async () => {
  const b = await build('seccomp-status', 'FROM busybox\nRUN grep "^Seccomp:" /proc/self/status > /s\n');
  assert.equal(b.code, 0, b.stderr);
  assert.match((await run(['seccomp-status', 'cat', '/s'])).stdout, /^Seccomp:\s+2$/m);
  assert.match((await run(['busybox', 'grep', '^Seccomp:', '/proc/self/status'])).stdout, /^Seccomp:\s+2$/m);
});

test('run --security-opt seccomp=unconfined runs without a filter', async () => {
  const r = await run(['--security-opt', 'seccomp=unconfined', 'busybox', 'grep', '^Seccomp:', '/proc/self/status']);
  assert.match(r.stdout, /^Seccomp:\s+0$/m, r.stderr);
  const bad = await run(['--security-opt', 'apparmor=x', 'busybox', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /--security-opt apparmor=x is not supported yet/);
});

test('a device node kept in an image layer cannot be opened', async () => {
  const tar = join(work, 'dev.tar');
  execFileSync('python3', ['-c', `import tarfile
t = tarfile.open(${JSON.stringify(tar)}, 'w')
i = tarfile.TarInfo('hostloop'); i.type = tarfile.BLKTYPE; i.devmajor = 7; i.devminor = ${loop.minor}; i.mode = 0o666
t.addfile(i); t.close()`]);
  const ctx = join(work, 'ctx-devlayer');
  await writeTree(ctx, { Dockerfile: 'FROM probe-img\nADD dev.tar /\nRUN ls -l /hostloop > /ls; /probe open /hostloop > /open\n' });
  await copyFile(tar, join(ctx, 'dev.tar'));
  const b = await runCli(['build', '--progress', 'plain', '-t', 'devlayer', ctx], { root });
  assert.equal(b.code, 0, b.stderr);
  const r = await run(['devlayer', 'sh', '-c', 'cat /ls /open; /probe open /hostloop']);
  assert.match(r.stdout, /^b/m, 'ADD keeps the block device node');
  assert.deepEqual(r.stdout.trim().split('\n').slice(1), ['EACCES', 'EACCES']);
});

test('run --device passes one host device in, and nothing else', async () => {
  const r = await run(['--device', `${loop.path}:/dev/xloop`, 'probe-img', 'sh', '-c', `head -c ${SECRET.length} /dev/xloop; echo; /probe mknod-open /dev/y b 7 ${loop.minor}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n').slice(0, 2), [SECRET, 'EACCES']);
  const bad = await run(['--device', '/etc/passwd', 'busybox', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /error gathering device information while adding custom device "\/etc\/passwd": not a device node/);
});

test("a container's device cgroup holds Docker's allow-list (cgroup v1 devices controller)", async () => {
  const base = '/sys/fs/cgroup/devices';
  const before = new Set(await readdir(join(base, 'tsbuild')).catch(() => [] as string[]));
  const running = run(['probe-img', 'sleep', '2']);
  let list: string | undefined;
  for (let i = 0; i < 100 && list === undefined; i++) {
    await new Promise((r) => setTimeout(r, 30));
    for (const d of await readdir(join(base, 'tsbuild')).catch(() => [] as string[])) {
      if (before.has(d)) continue;
      // Another test's container may end (and its cgroup go) between the two reads.
      const procs = await readFile(join(base, 'tsbuild', d, 'cgroup.procs'), 'utf8').catch(() => '');
      if (procs.trim()) list = await readFile(join(base, 'tsbuild', d, 'devices.list'), 'utf8').catch(() => undefined);
    }
  }
  assert.equal((await running).code, 0);
  assert.equal(list, ['c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', 'c 136:* rwm', ''].join('\n'));
});

/** HTTP requests with MARKER in a header on the host's loopback, for `ms`, while `during` runs. */
async function hostTraffic<T>(ms: number, during: () => Promise<T>): Promise<T> {
  let stop = false;
  const loop = (async () => {
    for (let n = 0; !stop && n < 400; n++) {
      await new Promise<void>((r) => {
        const s = connect(port, '127.0.0.1', () => s.end(`GET / HTTP/1.1\r\nHost: x\r\n${MARKER}\r\n\r\n`));
        s.resume(); // a paused socket never sees its end, nor closes
        s.on('close', () => r());
        s.on('error', () => r());
      });
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const timer = setTimeout(() => (stop = true), ms + 3000);
  try {
    return await during();
  } finally {
    stop = true;
    clearTimeout(timer);
    await loop;
  }
}

test("an AF_PACKET socket sees only the container's own traffic (the host's is seen with --network host)", async () => {
  const inside = await hostTraffic(1500, () => run(['probe-img', '/probe', 'packet', '1500', MARKER]));
  const m = /^frames (\d+) marked (\d+)$/m.exec(inside.stdout);
  assert.ok(m, inside.stdout + inside.stderr);
  assert.equal(m[2], '0', 'no host packet reaches the private namespace');
  // The probe works: on the host's network it does see the marker.
  const host = await hostTraffic(1500, () => run(['--network', 'host', 'probe-img', '/probe', 'packet', '1500', MARKER]));
  const h = /^frames (\d+) marked (\d+)$/m.exec(host.stdout);
  assert.ok(h && Number(h[2]) > 0, host.stdout + host.stderr);
});

test('run --network host reaches the host loopback and abstract sockets; --network none has no route out', async () => {
  const r = await run(['--network', 'host', 'probe-img', 'sh', '-c', `/probe connect 127.0.0.1 ${port}; /probe abstract ${abstractName}`]);
  assert.equal(r.stdout, `ok ${BANNER}\nok\n`, r.stderr);
  const none = await run(['--network', 'none', 'probe-img', '/probe', 'connect', '10.0.2.2', String(port)]);
  assert.equal(none.stdout, 'ENETUNREACH\n');
});

test('an unprivileged user may ping (ping_group_range), as in Docker', async () => {
  const r = await run(['-u', '65534', 'probe-img', '/probe', 'ping', '127.0.0.1']);
  assert.equal(r.stdout, 'ok\n', r.stderr);
});

test('RUN --network=host needs --allow network.host; with it the step reaches the host', async () => {
  const df = `FROM probe-img\nRUN --network=host /probe connect 127.0.0.1 ${port} > /r\n`;
  const denied = await build('nethost-denied', df);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /Dockerfile:2:1: error\[entitlement-needed\]: RUN --network=host needs the network.host entitlement: add --allow network.host/);
  const allowed = await build('nethost', df, ['--allow', 'network.host']);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal((await run(['nethost', 'cat', '/r'])).stdout, `ok ${BANNER}\n`);
});

test('build --network host needs --allow network.host, named at the first RUN', async () => {
  const df = `FROM probe-img\nRUN /probe connect 127.0.0.1 ${port} > /r\n`;
  const denied = await build('buildnet-denied', df, ['--network', 'host']);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /Dockerfile:2:1: error\[entitlement-needed\]: a RUN step on the host network \(--network host\) needs the network.host entitlement: add --allow network.host/);
  const allowed = await build('buildnet', df, ['--network', 'host', '--allow', 'network.host']);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal((await run(['buildnet', 'cat', '/r'])).stdout, `ok ${BANNER}\n`);
  const bad = await build('buildnet-bad', df, ['--allow', 'network.everything']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid --allow "network.everything": want network.host or security.insecure/);
});

test('RUN --security=insecure needs --allow security.insecure; then it has every capability and no seccomp', async () => {
  const df = 'FROM probe-img\nRUN --security=insecure sh -c \'grep -E "^(CapEff|Seccomp):" /proc/self/status; mount -t tmpfs none /tmp && echo mounted; /probe syscall keyctl\' > /r\n';
  const denied = await build('insecure-denied', df);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /Dockerfile:2:1: error\[entitlement-needed\]: RUN --security=insecure needs the security.insecure entitlement: add --allow security.insecure/);
  const allowed = await build('insecure', df, ['--allow', 'security.insecure', '--no-cache']);
  assert.equal(allowed.code, 0, allowed.stderr);
  const out = (await run(['insecure', 'cat', '/r'])).stdout;
  const bounding = (await readFile('/proc/self/status', 'utf8')).match(/^CapBnd:\s+(\w+)$/m)![1];
  assert.match(out, new RegExp(`^CapEff:\\s+${bounding}$`, 'm'));
  assert.match(out, /^Seccomp:\s+0$/m);
  assert.match(out, /^mounted$/m);
  assert.doesNotMatch(out, /EPERM/);
});

test('a missing slirp4netns is a clear error naming the package, never the host network', async () => {
  const r = await runCli(['run', '--rm', 'busybox', 'true'], { root, env: { TSBUILD_SLIRP4NETNS: '/nonexistent/slirp4netns' } });
  assert.equal(r.code, 125);
  assert.match(r.stderr, /the private network needs slirp4netns, which is not installed/);
  assert.match(r.stderr, /apt-get install slirp4netns/);
  const ctx = join(work, 'ctx-no-nat');
  await writeTree(ctx, { Dockerfile: 'FROM busybox\nRUN true\n' });
  const b = await runCli(['build', '--no-cache', ctx], { root, env: { TSBUILD_SLIRP4NETNS: '/nonexistent/slirp4netns' } });
  assert.equal(b.code, 1);
  assert.match(b.stderr, /Dockerfile:2:1: error\[nat-missing\]: the private network needs slirp4netns, which is not installed/);
  // --network none needs no NAT.
  const none = await runCli(['run', '--rm', '--network', 'none', 'busybox', 'true'], { root, env: { TSBUILD_SLIRP4NETNS: '/nonexistent/slirp4netns' } });
  assert.equal(none.code, 0, none.stderr);
});

test("a build's NAT starts only when a step runs: a fully cached rebuild starts none", async () => {
  const log = join(work, 'nat-starts.log');
  const wrapper = join(work, 'slirp4netns-logged');
  await writeTree(work, { 'slirp4netns-logged': `#!/bin/sh\necho started >> ${log}\nexec /usr/bin/slirp4netns "$@"\n` });
  await exec('chmod', ['0755', wrapper]);
  const starts = async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
  const ctx = join(work, 'ctx-nat-lazy');
  await writeTree(ctx, { Dockerfile: `FROM busybox\nENV N=${process.pid}\nRUN echo ran > /ran\n` });
  const env = { TSBUILD_SLIRP4NETNS: wrapper, TSBUILD_REPLAY: 'off' };
  const cold = await runCli(['build', '-q', ctx], { root, env });
  assert.equal(cold.code, 0, cold.stderr);
  assert.equal(await starts(), 1, 'the cold build started its NAT through the wrapper');
  const cached = await runCli(['build', '-q', ctx], { root, env });
  assert.equal(cached.code, 0, cached.stderr);
  assert.equal(cached.stdout, cold.stdout, 'the same image');
  assert.equal(await starts(), 1, 'the fully cached rebuild started a NAT');
  const again = await runCli(['build', '-q', '--no-cache', ctx], { root, env });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(await starts(), 2, 'a --no-cache build runs its RUN, with a NAT');
});

/** `pid ppid args` of every process. */
async function processes(): Promise<{ pid: number; ppid: number; args: string }[]> {
  const { stdout } = await exec('ps', ['-eo', 'pid=,ppid=,args=']);
  return stdout.split('\n').filter(Boolean).map((l) => {
    const [pid, ppid, ...args] = l.trim().split(/\s+/);
    return { pid: Number(pid), ppid: Number(ppid), args: args.join(' ') };
  });
}

/** A build's network holder (network.c) that is not ours, as another test file's build has:
 * started through sh, so its parent is not this process. Resolves once it holds its NAT. */
async function foreignHolder(): Promise<{ pid: number; end(): void }> {
  const sh = spawn('sh', ['-c', '"$0" --netns /usr/bin/slirp4netns; exit $?', helperPath], { stdio: ['pipe', 'pipe', 'ignore'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    sh.stdout!.on('data', (b: Buffer) => (out += b.toString()).includes('ready\n') && resolve());
    sh.on('exit', (code) => reject(new Error(`the network holder ended (${code}) before it was ready`)));
  });
  const holder = (await processes()).find((p) => p.ppid === sh.pid && p.args.includes(' --netns '));
  assert.ok(holder, 'the foreign network holder');
  return { pid: holder.pid, end: () => sh.stdin!.end() };
}

test('the NAT dies with its container, even when the helper is SIGKILLed', async () => {
  // Other files' builds run meanwhile (--test-concurrency), each holding a NAT through a helper:
  // only this run's own helper may be killed, else a RUN of theirs finds /proc/PID/ns/net gone.
  const foreign = await foreignHolder();
  const cli = spawn(cliPath, ['run', '--rm', 'probe-img', 'sleep', '30'], { env: { ...process.env, TSBUILD_ROOT: root }, stdio: 'ignore' });
  const running = new Promise<number | null>((r) => cli.on('exit', r));
  try {
    let nat: { pid: number; ppid: number } | undefined;
    for (let i = 0; i < 200 && !nat; i++) {
      await new Promise((r) => setTimeout(r, 25));
      const all = await processes();
      // The run's helper: that tsbuild's child, with no subcommand (a build's holder has --netns).
      const helper = all.find((p) => p.ppid === cli.pid && p.args === helperPath);
      nat = helper && all.find((p) => p.ppid === helper.pid && p.args.startsWith('/usr/bin/slirp4netns') && p.args.includes(' tap0'));
    }
    assert.ok(nat, 'a slirp4netns child of the runtime helper');
    process.kill(nat.ppid, 'SIGKILL');
    assert.notEqual(await running, 0, 'the run whose helper was killed failed');
    let alive = true;
    for (let i = 0; i < 100 && alive; i++) {
      await new Promise((r) => setTimeout(r, 20));
      alive = (await processes()).some((p) => p.pid === nat!.pid);
    }
    assert.equal(alive, false, 'slirp4netns outlived its helper');
    assert.ok((await processes()).some((p) => p.pid === foreign.pid), "another build's network holder was killed");
  } finally {
    cli.kill('SIGKILL'); // a failed assertion must not leave it sleeping
    foreign.end();
  }
});

test("a build's NAT is shared by its RUN steps and gone when tsbuild is SIGKILLed", async () => {
  const ctx = join(work, 'ctx-holder');
  await writeTree(ctx, { Dockerfile: 'FROM busybox\nRUN sleep 30\n' });
  const cli = spawn(join(projectRoot, 'dist', 'tsbuild.cjs'), ['build', '--progress', 'plain', '--no-cache', ctx], {
    env: { ...process.env, TSBUILD_ROOT: root },
    stdio: 'ignore',
  });
  let holder: { pid: number } | undefined;
  let nat: { pid: number } | undefined;
  for (let i = 0; i < 300 && !(holder && nat); i++) {
    await new Promise((r) => setTimeout(r, 25));
    const all = await processes();
    holder = all.find((p) => p.ppid === cli.pid && / --netns \//.test(p.args));
    nat = holder && all.find((p) => p.ppid === holder!.pid && p.args.startsWith('/usr/bin/slirp4netns'));
  }
  assert.ok(holder && nat, 'the build holds one network namespace with its slirp4netns');
  cli.kill('SIGKILL');
  let left = [holder.pid, nat.pid];
  for (let i = 0; i < 100 && left.length; i++) {
    await new Promise((r) => setTimeout(r, 20));
    const pids = new Set((await processes()).map((p) => p.pid));
    left = left.filter((p) => pids.has(p));
  }
  assert.deepEqual(left, [], 'the holder and its NAT outlived the build');
  // The next store open cleans what the killed build left mounted (its RUN's tmpfs).
  assert.equal((await runCli(['images'], { root })).code, 0);
});
