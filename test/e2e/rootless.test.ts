/**
 * Rootless mode (issue 21): an ordinary user, made here with `useradd` and a subuid/subgid
 * range, runs tsbuild with a clean environment through setpriv. Its tsbuild is root of its
 * own user namespace (runtime-helper/userns-cmd.c); what it builds must be byte for byte
 * what root builds (same image IDs under SOURCE_DATE_EPOCH), with the Dockerfile's ids in
 * the layers and the shifted ids on disk, and the sandbox's attacks must fail as they do
 * for root. Overlay in a user namespace keeps opaque dirs in user.overlay.* xattrs, so the
 * whiteout cases (rm of a base file, a dir replaced) are here too.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cliPath, runCli, type CliResult } from '../../cli/tsbuild.js';
import { projectRoot } from '../../common/index.js';
import { makeBusybox } from '../helpers/busybox.js';
import { makeLoopDevice } from '../helpers/loop-device.js';
import { onPty } from '../helpers/pty.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { ATTACKS, fillAttack, parseProbes, probeScript } from '../helpers/sandbox-attacks.js';
import { tempDir } from '../helpers/temp.js';

const SDE = '1700000000';
const USER = `tsbrl${process.pid % 100000}`;
const LONE = `tsbrs${process.pid % 100000}`; // no subuid range: the single-id map

let work: string;
let install: string;
let rootStore: string;
let subuidBase: number;
let registry: RegistryServer;

/** The files `npm install` leaves that tsbuild runs from, copied where the test user can read them. */
function installCopy(dir: string): string {
  assert.ok(cliPath.endsWith('.cjs'), 'the CLI bundle (npm run build) is needed');
  // Every bundle (the main one, its code cache, and those loaded at first use: the extractor's
  // worker, the exec-form grammar, undici), as package.json's "files" ships them.
  const bundles = readdirSync(join(projectRoot, 'dist')).filter((n) => /^tsbuild.*\.cjs(\.cache)?$/.test(n)).map((n) => `dist/${n}`);
  assert.ok(bundles.includes('dist/tsbuild-undici.cjs') && bundles.includes('dist/tsbuild-grammar.cjs'), bundles.join(' '));
  const files = ['package.json', ...bundles, 'runtime-helper/tsbuild-helper', 'runtime-helper/tsbuild-init', 'runtime-helper/tsbuild-gzip', 'front-door/tsbuild-front'];
  for (const f of files) {
    if (!existsSync(join(projectRoot, f))) continue;
    mkdirSync(join(dir, f, '..'), { recursive: true });
    copyFileSync(join(projectRoot, f), join(dir, f));
    chmodSync(join(dir, f), statSync(join(projectRoot, f)).mode & 0o777);
  }
  execFileSync('chmod', ['-R', 'a+rX', dir]);
  return join(dir, 'dist', 'tsbuild.cjs');
}

function homeOf(name: string): string {
  return join(work, `home-${name}`);
}

/** `tsbuild ARGS` as `name`, with only HOME, PATH and `env` in its environment. */
function asUser(name: string, args: string[], opts: { env?: Record<string, string>; cwd?: string; input?: string } = {}): Promise<CliResult> {
  const env = { HOME: homeOf(name), PATH: '/usr/local/bin:/usr/bin:/bin', ...opts.env };
  const argv = [`--reuid=${name}`, `--regid=${name}`, '--clear-groups', 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), install, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn('setpriv', argv, { cwd: opts.cwd ?? work, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    // A child that exits before reading its input (a replayed build) closes the pipe (as cli/tsbuild.ts's runCli).
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

const user = (args: string[], env: Record<string, string> = {}) => asUser(USER, args, { env: { SOURCE_DATE_EPOCH: SDE, ...env } });
const asRoot = (args: string[]) => runCli(args, { root: rootStore, env: { SOURCE_DATE_EPOCH: SDE } });

/** A context dir owned by `name`, as the user's own checkout would be. */
function context(name: string, files: Record<string, string>, owner = USER): string {
  const dir = join(work, `ctx-${name}`);
  mkdirSync(dir, { recursive: true });
  for (const [f, body] of Object.entries(files)) writeFileSync(join(dir, f), body);
  execFileSync('chown', ['-R', `${owner}:${owner}`, dir]);
  return dir;
}

function ok(r: CliResult, what: string): string {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r.stdout.trim();
}

before(async () => {
  work = await tempDir('tsbuild-rootless-');
  chmodSync(work, 0o755);
  install = installCopy(join(work, 'install'));
  for (const [name, ranges] of [[USER, true], [LONE, false]] as const) {
    spawnSync('userdel', [name]); // a user left by a killed run
    const k = ranges ? [] : ['-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0'];
    execFileSync('useradd', ['-M', '-d', homeOf(name), '-s', '/bin/sh', ...k, name]);
    mkdirSync(homeOf(name));
    execFileSync('chown', [`${name}:${name}`, homeOf(name)]);
  }
  // useradd gives a range when login.defs says so; otherwise this one.
  const line = (file: string) => readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${USER}:`));
  if (!line('/etc/subuid') || !line('/etc/subgid')) execFileSync('usermod', ['--add-subuids', '400000-465535', '--add-subgids', '400000-465535', USER]);
  subuidBase = Number(line('/etc/subuid')!.split(':')[1]);
  // The NAT's tap device: Debian's udev makes /dev/net/tun 0666; a machine without udev may
  // not (.ci/run sets it). Set, never restored: a test running beside this one (own-image)
  // must not see it change under it.
  if ((statSync('/dev/net/tun').mode & 0o777) !== 0o666) chmodSync('/dev/net/tun', 0o666);
  rootStore = join(work, 'root-store');
  await makeBusybox(rootStore, work);
  const tar = join(work, 'busybox.tar');
  ok(await asRoot(['save', '-o', tar, 'busybox']), 'save busybox');
  chmodSync(tar, 0o644);
  for (const name of [USER, LONE]) ok(await asUser(name, ['load', '-i', tar]), `load busybox as ${name}`);
  registry = await startRegistry();
});

after(async () => {
  await registry?.stop();
  for (const name of [USER, LONE]) spawnSync('userdel', [name]);
});

/**
 * Every entry of the layer tars of `image` in the user's store: `uid/gid path`. Read from a
 * `save` (docker-archive: tars as they are): an extracted layer has no tar blob in the store
 * (store/tar-split.ts), and its tar is made again from the split's recorded headers.
 */
async function layerEntries(image: string): Promise<string[]> {
  const saved = join(homeOf(USER), `${image}-saved`);
  mkdirSync(saved, { recursive: true });
  execFileSync('chown', [`${USER}:${USER}`, saved]);
  ok(await user(['save', '-o', join(saved, 'image.tar'), image]), 'save');
  execFileSync('tar', ['-xf', join(saved, 'image.tar'), '-C', saved]);
  const manifest = JSON.parse(readFileSync(join(saved, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
  const out: string[] = [];
  for (const l of manifest[0].Layers) {
    const blob = join(saved, l);
    for (const row of execFileSync('tar', ['-tvf', blob, '--numeric-owner'], { encoding: 'utf8' }).trim().split('\n')) {
      const f = row.split(/\s+/);
      out.push(`${f[1]} ${f.slice(5).join(' ')}`);
    }
  }
  return out;
}

const userStore = () => join(homeOf(USER), '.local', 'share', 'tsbuild');

test('rootless: a FROM scratch build gives the image ID root gets, and runs', async () => {
  const ctx = context('scratch', { Dockerfile: 'FROM scratch\nADD hello /\nCMD ["/hello"]\n' });
  copyFileSync(join(projectRoot, 'fixtures', 'scratch-hello', 'hello'), join(ctx, 'hello'));
  execFileSync('chown', [`${USER}:${USER}`, join(ctx, 'hello')]);
  chmodSync(join(ctx, 'hello'), 0o755);
  const mine = ok(await user(['build', '-q', '-t', 'hello', ctx]), 'rootless build');
  assert.equal(mine, ok(await asRoot(['build', '-q', '-t', 'hello', ctx]), 'root build'));
  assert.ok(existsSync(join(userStore(), 'oci', 'index.json')), 'the store is $XDG_DATA_HOME/tsbuild (here ~/.local/share/tsbuild)');
  assert.equal(statSync(userStore()).uid, Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' })), 'the store is the user\'s');
  const r = await user(['run', '--rm', 'hello']);
  assert.equal(ok(r, 'run'), 'Hello world!');
});

const BUSYBOX_DOCKERFILE = [
  'FROM busybox',
  'RUN mkdir -p /d/sub && echo x > /d/sub/f && echo y > /d/g && echo app:x:1000:1000::/home:/bin/sh >> /etc/passwd && chown 1000:1000 /d/g && chown 65000:65001 /d/sub/f',
  'COPY --chown=1000 a.txt /home/a.txt',
  'RUN rm -rf /d/sub && rm /bin/vi && mkdir /d/sub && echo z > /d/sub/new',
  'RUN --mount=type=secret,id=tok test "$(cat /run/secrets/tok)" = s3cret && echo secret-seen > /secret-ok',
  'RUN --mount=type=cache,target=/cache echo c >> /cache/n && wc -l < /cache/n > /count',
  '',
].join('\n');

test('rootless: RUN, chown, COPY --chown=1000, whiteouts, a secret and a cache mount: the image root builds', async () => {
  const ctx = context('busybox', { Dockerfile: BUSYBOX_DOCKERFILE, 'a.txt': 'from the context\n', 'tok.txt': 's3cret' });
  chmodSync(join(ctx, 'tok.txt'), 0o600);
  chmodSync(join(ctx, 'a.txt'), 0o644);
  const secret = ['--secret', `id=tok,src=${join(ctx, 'tok.txt')}`];
  const mine = ok(await user(['build', '-q', ...secret, '-t', 'bb', ctx]), 'rootless build');
  execFileSync('chown', ['root:root', join(ctx, 'tok.txt')]);
  assert.equal(mine, ok(await asRoot(['build', '-q', ...secret, '-t', 'bb', ctx]), 'root build'), 'same image ID as root');
  const entries = await layerEntries('bb');
  for (const want of ['1000/1000 d/g', '65000/65001 d/sub/f', '1000/1000 home/a.txt', '0/0 bin/.wh.vi', '0/0 d/sub/.wh..wh..opq', '0/0 d/sub/new', '0/0 secret-ok'])
    assert.ok(entries.includes(want), `a layer holds ${want}:\n${entries.join('\n')}`);
  assert.ok(!entries.some((e) => e.includes('tok')), 'the secret is in no layer');
  const r = await user(['run', '--rm', 'bb', 'sh', '-c', 'ls /d/sub; test -e /bin/vi || echo no-vi; cat /count; stat -c %u:%g /d/g /home/a.txt']);
  assert.deepEqual(ok(r, 'run').split('\n'), ['new', 'no-vi', '1', '1000:1000', '1000:1000']);
  // On disk (the layer dirs run unpacked) the ids are shifted: id N is subuid base + N - 1.
  const layers = join(userStore(), 'layers');
  const g = readdirSync(layers).map((d) => join(layers, d, 'd', 'g')).find((p) => existsSync(p));
  assert.ok(g, 'a layer dir holds d/g');
  assert.deepEqual([statSync(g).uid, statSync(g).gid], [subuidBase + 999, subuidBase + 999]);
  // The cache mount is kept between builds.
  execFileSync('chown', [`${USER}:${USER}`, join(ctx, 'tok.txt')]);
  ok(await user(['build', '-q', '--no-cache', ...secret, '-t', 'bb2', ctx]), 'rootless build again');
  assert.equal(ok(await user(['run', '--rm', 'bb2', 'cat', '/count']), 'run'), '2');
});

// The copy snapshotter (executor/snapshotter.ts) is what rootless mode falls back to where
// overlay cannot be mounted in the user namespace (before Linux 5.11): forced here.
test('rootless, copy snapshotter forced: RUN with whiteouts, an opaque dir, chown and hardlinks gives the image root builds with overlay', async () => {
  const ctx = context('copy', {
    Dockerfile: [
      'FROM busybox',
      'RUN mkdir -p /d/sub && echo x > /d/sub/f && echo y > /d/g && chown 1000:1000 /d/g',
      'RUN rm -rf /d/sub && mkdir /d/sub && echo z > /d/sub/new && rm /bin/vi && chown 65000:65001 /d/g && chmod 600 /d/g && ln /d/g /d/g2 && mkfifo /d/p',
      'RUN --mount=type=cache,target=/cache test -d /cache && echo c > /c',
      '',
    ].join('\n'),
  });
  const env = { TSBUILD_SNAPSHOTTER: 'copy' };
  const mine = ok(await user(['build', '-q', '-t', 'bbcopy', ctx], env), 'rootless build with copies');
  assert.equal(mine, ok(await asRoot(['build', '-q', '-t', 'bbcopy', ctx]), 'root build with overlay'), 'same image ID as root');
  const entries = await layerEntries('bbcopy');
  for (const want of ['0/0 d/sub/.wh..wh..opq', '0/0 bin/.wh.vi', '65000/65001 d/g', '65000/65001 d/g2 link to d/g', '0/0 c'])
    assert.ok(entries.includes(want), `a layer holds ${want}:\n${entries.join('\n')}`);
  const r = await user(['run', '--rm', 'bbcopy', 'sh', '-c', 'ls /d/sub; stat -c %u:%g:%a /d/g'], env);
  assert.deepEqual(ok(r, 'run').split('\n'), ['new', '65000:65001:600']);
  assert.match(ok(await asUser(USER, ['info'], { env }), 'info'), /^snapshots: +copies of the image \(TSBUILD_SNAPSHOTTER=copy\)$/m);  // The RUN's / really is the copy, not an overlay.
  const probe = context('copy-probe', { Dockerfile: 'FROM busybox\nRUN awk \'$5 == "/"\' /proc/self/mountinfo > /tmp/root && ! grep -q " - overlay " /tmp/root\n' });
  ok(await user(['build', '-q', '--no-cache', probe], env), 'a RUN whose / is no overlay');
  assert.notEqual((await user(['build', '-q', '--no-cache', probe], { TSBUILD_SNAPSHOTTER: 'overlay' })).code, 0, 'with overlay it is one');
});

test('rootless: run -ti gets a real pty as root of the container', async () => {
  const env = { HOME: homeOf(USER), PATH: '/usr/bin:/bin', TERM: 'dumb' };
  const line = `setpriv --reuid=${USER} --regid=${USER} --clear-groups env -i ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')} ${install} run -ti --rm busybox sh -c 'tty; id -u; test -t 0 && echo stdin-is-tty'`;
  const out = await onPty(line, process.env);
  assert.match(out, /^\/dev\/pts\/\d+\r?$/m, out);
  assert.match(out, /^0\r?$/m, out);
  assert.match(out, /^stdin-is-tty\r?$/m, out);
});

test('rootless: push to and pull from a registry; the pulled image has the same ID and runs', async () => {
  const ref = `${registry.host}/rootless/bb:1`;
  ok(await user(['tag', 'bb', ref]), 'tag');
  ok(await user(['push', ref]), 'push');
  const id = ok(await user(['inspect', '-f', '{{.Id}}', ref]), 'inspect');
  ok(await user(['rmi', ref]), 'rmi');
  ok(await asUser(LONE, ['pull', ref]), 'pull as another user');
  assert.equal(ok(await asUser(LONE, ['inspect', '-f', '{{.Id}}', ref]), 'inspect'), id);
  // The lone user's map has root alone: the layers' other ids cannot be unpacked...
  const r = await asUser(LONE, ['run', '--rm', ref, 'cat', '/d/sub/new']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /warning: no subuid\/subgid range for tsbrs\d+: containers have root only, chown to any other id fails \(add `tsbrs\d+:100000:65536` to \/etc\/subuid and \/etc\/subgid\)/);
  // ... while the user with a range pulls and runs it.
  ok(await user(['pull', ref]), 'pull');
  assert.equal(ok(await user(['run', '--rm', ref, 'cat', '/d/sub/new']), 'run'), 'z');
});

// The front door stats the record's paths from outside the user namespace the build ran in,
// where the user's files are the user's, not root's: the record holds the host's ids.
test('rootless: a second fully cached build is replayed by the front door; a changed context file is not', async () => {
  const ctx = context('replay', { Dockerfile: 'FROM scratch\nCOPY a.txt /\n', 'a.txt': 'one\n' });
  await new Promise((r) => setTimeout(r, 1100)); // files younger than a clock tick are not trusted to a replay
  const env = { TSBUILD_DEBUG: 'replay' };
  const REPLAYED = 'tsbuild: replayed a fully cached build';
  const cold = await user(['build', '-q', '-t', 'rp', ctx], env);
  const cached = await user(['build', '-q', '-t', 'rp', ctx], env);
  assert.equal(ok(cached, 'cached build'), ok(cold, 'cold build'));
  assert.ok(!cached.stderr.includes(REPLAYED), 'the first cached build runs and leaves its record');
  const replay = await user(['build', '-q', '-t', 'rp', ctx], env);
  assert.ok(replay.stderr.includes(REPLAYED), `replayed: ${replay.stderr}`);
  assert.equal(ok(replay, 'replay'), ok(cold, 'cold build'));
  writeFileSync(join(ctx, 'a.txt'), 'two\n');
  execFileSync('chown', [`${USER}:${USER}`, join(ctx, 'a.txt')]);
  const changed = await user(['build', '-q', '-t', 'rp', ctx], env);
  assert.ok(!changed.stderr.includes(REPLAYED), 'a changed file is built');
  assert.notEqual(ok(changed, 'changed build'), ok(cold, 'cold build'));
});

test('rootless, single-id map: one warning line, root works, chown to another id fails', async () => {
  const r = await asUser(LONE, ['run', '--rm', 'busybox', 'sh', '-c', 'echo hi > /tmp/f && chown 0 /tmp/f && echo root-ok; chown 1000 /tmp/f']);
  assert.equal(r.stdout, 'root-ok\n');
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr.split('\n').filter((l) => l.includes('warning:')).length, 1, r.stderr);
  assert.match(r.stderr, /chown: \/tmp\/f: Invalid argument/);
});

let probeServer: Server;
let loop: ReturnType<typeof makeLoopDevice> | undefined;
let probed: Promise<{ build: string[]; run: string[] }> | undefined;
const abstractName = `tsbuild-rootless-${process.pid}`;

/** The sandbox suite's attacks, once in a RUN step and once in `tsbuild run`, as the user. */
async function probeAsUser(): Promise<{ build: string[]; run: string[] }> {
  loop = makeLoopDevice(join(work, 'loop-backing'), 'ROOTLESS-LOOP-SECRET');
  probeServer = createServer((s) => s.on('error', () => undefined).end('host-only\n'));
  await new Promise<void>((r) => probeServer.listen(0, '127.0.0.1', r));
  const abstract = createServer((s) => s.on('error', () => undefined).end('host-only\n'));
  await new Promise<void>((r) => abstract.listen(`\0${abstractName}`, r));
  after(() => {
    probeServer.close();
    abstract.close();
    loop?.detach();
  });
  const port = (probeServer.address() as { port: number }).port;
  const values = { minor: loop.minor, port, abstract: abstractName, pid: process.pid };
  const script = probeScript(ATTACKS.map((a) => ({ cmd: fillAttack(a.cmd, values) })));
  const ctx = context('probe', { Dockerfile: `FROM busybox\nCOPY probe /probe\nRUN sh -c '${script.replace(/'/g, `'\\''`)}' > /result\n` });
  copyFileSync(join(projectRoot, 'fixtures', 'probe', 'probe'), join(ctx, 'probe'));
  chmodSync(join(ctx, 'probe'), 0o755);
  ok(await user(['build', '-q', '-t', 'probe', ctx]), 'build probes');
  const fromBuild = ok(await user(['run', '--rm', 'probe', 'cat', '/result']), 'probe result');
  const fromRun = ok(await user(['run', '--rm', 'probe', 'sh', '-c', script]), 'probes in run');
  return { build: parseProbes(fromBuild), run: parseProbes(fromRun) };
}

for (const [i, row] of ATTACKS.entries()) {
  // In a user namespace the kernel refuses mknod of a device outright (EPERM), before any
  // open could be tried: the node is as unusable as root's nodev one (EACCES).
  const want = row.cmd.startsWith('mknod-open') ? 'mknod EPERM' : row.want;
  test(`rootless sandbox: ${row.name}, as a RUN step and in tsbuild run`, async () => {
    const { build: b, run: r } = await (probed ??= probeAsUser());
    for (const [got, where] of [[b[i], 'RUN'], [r[i], 'run']] as const)
      if (typeof want === 'string') assert.equal(got, want, `${where}: ${row.name}`);
      else assert.match(got ?? '', want, `${where}: ${row.name}`);
  });
}

test('info: the mode, the ranges, overlay in the user namespace; each missing prerequisite one line with its fix', async () => {
  const mine = await asUser(USER, ['info']);
  const out = ok(mine, 'info');
  assert.match(out, /^mode: +rootless \(user namespace with subuid\/subgid ranges\)$/m);
  assert.match(out, new RegExp(`^user namespaces: +max \\d+; ${USER}: subuid ${subuidBase}:\\d+, subgid \\d+:\\d+$`, 'm'));
  assert.match(out, /^snapshots: +overlayfs in the user namespace \(userxattr\)$/m);
  assert.match(out, /^cgroups: +v[12] /m);
  assert.match(out, /^network helper: +\/\S*slirp4netns$/m);
  assert.match(out, /^binfmt handlers: /m);
  assert.match(out, new RegExp(`^store: +${userStore().replace(/[.]/g, '\\.')} \\([\\d.]+ MB\\)$`, 'm'));
  assert.doesNotMatch(out, /^missing:/m);
  const lone = await asUser(LONE, ['info']);
  assert.equal(lone.code, 1);
  assert.match(lone.stdout, /^mode: +rootless \(user namespace of one id\)$/m);
  const missing = lone.stdout.split('\n').filter((l) => l.startsWith('missing:'));
  assert.deepEqual(missing, [
    `missing: no subuid range for user ${LONE}: add \`${LONE}:100000:65536\` to /etc/subuid`,
    `missing: no subgid range for user ${LONE}: add \`${LONE}:100000:65536\` to /etc/subgid`,
  ]);
  assert.match(ok(await runCli(['info'], { root: rootStore }), 'info as root'), /^mode: +root$/m);
});
