/**
 * tsbuild's own image (image/Dockerfile, issue 21 item 3), built by tsbuild, then run by
 * `tsbuild run` as the image's unprivileged user `build` with Docker's default capability
 * set only, the way a CI pod runs it: inside, tsbuild is rootless (a user namespace through
 * newuidmap and the user's subuid range), builds a busybox Dockerfile with a RUN and runs
 * the result with its own sandbox (private network, seccomp, no_new_privs). The flags are
 * the ones moby/buildkit's docs/rootless.md gives for its rootless image (seccomp and
 * systempaths unconfined) plus no-new-privileges=false for newuidmap's file capabilities;
 * without systempaths or no-new-privileges the nested container cannot start.
 * There is no Docker Hub here: fixtures/node-base/make.sh makes node:20-bookworm-slim
 * (cached between runs) with the packages the Dockerfile would otherwise download.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { runCli, type CliResult } from '../../cli/tsbuild.js';
import { projectRoot } from '../../common/index.js';
import { makeBusybox } from '../helpers/busybox.js';
import { tempDir } from '../helpers/temp.js';

const IMAGE = 'tsbuild-own-image';
/** What a pod with `seccompProfile: Unconfined`, `procMount: Unmasked` and `allowPrivilegeEscalation: true` gives. */
const POD = ['--security-opt', 'seccomp=unconfined', '--security-opt', 'systempaths=unconfined', '--security-opt', 'no-new-privileges=false'];
/** Docker's default capability set (moby oci/caps/defaults.go), as CapBnd shows it. */
const DOCKER_CAPS = '00000000a80425fb';

let work: string;
let root: string;
let ctx: string;
let innerStore: string;
let built: CliResult;

before(async () => {
  work = await tempDir('tsbuild-own-image-');
  root = join(work, 'root');
  const made = spawnSync('bash', [join(projectRoot, 'fixtures', 'node-base', 'make.sh'), '--root', root], { encoding: 'utf8' });
  assert.equal(made.status, 0, `fixtures/node-base/make.sh failed (is the Debian archive reachable?):\n${made.stderr}`);
  await makeBusybox(root, work);
  built = await runCli(['build', '-q', '-f', join(projectRoot, 'image', 'Dockerfile'), '-t', IMAGE, projectRoot], { root });
  // The build context the inner tsbuild gets, with busybox to load (it has no registry).
  ctx = join(work, 'ctx');
  mkdirSync(ctx);
  chmodSync(work, 0o755);
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo built-inside > /f && id -u >> /f && chown 65534 /f\n');
  const saved = await runCli(['save', '-o', join(ctx, 'busybox.tar'), 'busybox'], { root });
  assert.equal(saved.code, 0, saved.stderr);
  chmodSync(join(ctx, 'busybox.tar'), 0o644);
  // The inner store on a volume, as an emptyDir in a pod: overlayfs takes no upper dir on overlayfs.
  innerStore = join(work, 'inner-store');
  mkdirSync(innerStore);
  chownSync(innerStore, 1000, 1000);
  // The private network's tap device, for the user inside: Debian's udev makes it 0666. Set,
  // never restored: tests running at once must not see it change under them.
  if ((statSync('/dev/net/tun').mode & 0o777) !== 0o666) chmodSync('/dev/net/tun', 0o666);
});

/** `tsbuild run` of the image as the pod would run it: IMAGE's ENTRYPOINT is tsbuild. */
function pod(args: string[], flags: string[] = [...POD, '--device', '/dev/net/tun']): Promise<CliResult> {
  return runCli(['run', '--rm', '--user', 'build', ...flags,
    '-v', `${ctx}:/ctx:ro`, '-v', `${innerStore}:/home/build/.local/share/tsbuild`, IMAGE, ...args], { root });
}

function ok(r: CliResult, what: string): string {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r.stdout;
}

test('image/Dockerfile builds with tsbuild: a non-root USER, ENTRYPOINT tsbuild, newuidmap with file capabilities, a subuid range', async () => {
  ok(built, 'build image/Dockerfile');
  const [config] = JSON.parse(ok(await runCli(['inspect', IMAGE], { root }), 'inspect')) as { Config: { User: string; Entrypoint: string[] } }[];
  assert.equal(config.Config.User, '1000:1000');
  assert.deepEqual(config.Config.Entrypoint, ['tsbuild']);
  const r = await pod(['--version']);
  assert.match(ok(r, 'tsbuild --version in the image'), /^tsbuild \d+\.\d+\.\d+$/m);
  const look = await runCli(['run', '--rm', '--entrypoint', 'sh', IMAGE, '-c',
    'id -un; cat /etc/subuid /etc/subgid; getcap /usr/bin/newuidmap /usr/bin/newgidmap; stat -c %A /usr/bin/newuidmap; command -v slirp4netns'], { root });
  assert.deepEqual(ok(look, 'look inside').trim().split('\n'), [
    'build', 'build:100000:65536', 'build:100000:65536',
    '/usr/bin/newuidmap cap_setuid=ep', '/usr/bin/newgidmap cap_setgid=ep', '-rwxr-xr-x', '/usr/bin/slirp4netns',
  ]);
});

test('the image, run as user build with Docker\'s default capabilities, builds a busybox Dockerfile with a RUN rootless and runs it', async () => {
  ok(built, 'build image/Dockerfile');
  const who = await pod(['-c', 'id -u; grep -E "^Cap(Bnd|Eff):" /proc/self/status | tr -d "\\t"; tsbuild load -q -i /ctx/busybox.tar'], [...POD, '--entrypoint', 'sh']);
  assert.deepEqual(ok(who, 'load busybox inside').trim().split('\n').slice(0, 3), ['1000', `CapEff:${'0'.repeat(16)}`, `CapBnd:${DOCKER_CAPS}`]);
  const b = await pod(['build', '--progress', 'plain', '-t', 'inner', '/ctx']);
  assert.match(ok(b, 'tsbuild build inside'), /^$/);
  assert.match(b.stderr, /RUN echo built-inside > \/f/);
  // tsbuild run inside: its own sandbox, nested (a private network with its tap device, a
  // seccomp filter, no_new_privs), as root of the inner user namespace.
  const r = await pod(['run', '--rm', 'inner', 'sh', '-c',
    'cat /f; stat -c %u /f; ip -o link show tap0 | grep -c tap0; grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status | tr -d "\\t"']);
  assert.deepEqual(ok(r, 'tsbuild run inside').trim().split('\n'), ['built-inside', '0', '65534', '1', 'NoNewPrivs:1', 'Seccomp:2']);
  // On the volume the ids are shifted as the user's map says: container id N is 100000 + N - 1.
  const layers = join(innerStore, 'layers');
  const f = readdirSync(layers).map((d) => join(layers, d, 'f')).find((p) => existsSync(p));
  assert.ok(f, 'a layer dir of the inner store holds the RUN step\'s /f');
  assert.equal(statSync(f).uid, 100000 + 65534 - 1);
});

test('without systempaths=unconfined the nested container cannot mount its /proc; without no-new-privileges=false newuidmap cannot map', async () => {
  ok(built, 'build image/Dockerfile');
  const masked = await pod(['run', '--rm', 'busybox', 'true'], ['--security-opt', 'seccomp=unconfined', '--security-opt', 'no-new-privileges=false']);
  assert.equal(masked.code, 125, masked.stderr);
  assert.match(masked.stderr, /^error\[container-start\]: container setup: mount \/proc: operation not permitted \(rootless in a container: its \/proc has masked paths; run it with --security-opt systempaths=unconfined, in Kubernetes procMount: Unmasked\)$/m);
  const nnp = await pod(['run', '--rm', 'busybox', 'true'], ['--security-opt', 'seccomp=unconfined', '--security-opt', 'systempaths=unconfined']);
  assert.notEqual(nnp.code, 0);
  assert.match(nnp.stderr, /newuidmap/);
});

test('without /dev/net/tun (a pod has none), RUN steps take the container\'s own network with --network host --allow network.host', async () => {
  ok(built, 'build image/Dockerfile');
  const b = await pod(['build', '-q', '--no-cache', '--network', 'host', '--allow', 'network.host', '-t', 'inner-host', '/ctx'], POD);
  assert.match(ok(b, 'build --network host inside').trim(), /^sha256:[0-9a-f]{64}$/);
  const r = await pod(['run', '--rm', '--network', 'none', 'inner-host', 'cat', '/f'], POD);
  assert.equal(ok(r, 'run inside'), 'built-inside\n0\n');
  const dflt = await pod(['build', '-q', '--no-cache', '-t', 'inner-nat', '/ctx'], POD);
  assert.notEqual(dflt.code, 0, 'the private network needs the tap device');
  assert.match(dflt.stderr, /\/dev\/net\/tun/);
});
