import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../common/index.js';
import { runCli } from '../../cli/tsbuild.js';
import { openStore } from '../../store/index.js';
import { tempDir } from '../helpers/temp.js';

const run = promisify(execFile);

// Issue 16, promise 1: the store is its owner's only. An image whose layer holds a root-owned
// 4755 binary and a device node is loaded and its layer extracted (issue 16 ran such a
// binary from <root>/layers/<id>/ as uid 65534 and got euid=0); then uid 65534, entered
// with setpriv (no capabilities, no groups), must neither see, read, list, write nor run
// anything under the store. Docker keeps its root 0710 for the same reason (moby
// daemon/daemon_unix.go, setupDaemonRoot: "MkdirAllAndChown(config.Root, 0o710, …)").

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'];

let work: string;
let root: string;
let suid: string;

/** Each path `probe` could reach as uid 65534, one line per access: SEES, READ, LIST, WRITE, RAN. */
async function reachableAsNobody(paths: string[], exec: string): Promise<string[]> {
  const script = `
for p in "$@"; do
  if [ "$p" != "$ROOT" ] && { [ -e "$p" ] || [ -L "$p" ]; }; then echo "SEES $p"; fi
  if head -c 1 "$p" >/dev/null 2>&1; then echo "READ $p"; fi
  if ls "$p" >/dev/null 2>&1; then echo "LIST $p"; fi
  if [ "$p" != "$ROOT" ] && (: >> "$p") 2>/dev/null; then echo "WRITE $p"; fi
done
out=$("$EXEC" 2>&1) && echo "RAN $EXEC: $out"
exit 0`;
  const r = await run('setpriv', [...NOBODY, 'env', `ROOT=${root}`, `EXEC=${exec}`, 'sh', '-c', script, 'probe', ...paths]);
  return r.stdout.split('\n').filter(Boolean);
}

/** Every path in the store, found as root. */
async function storePaths(): Promise<string[]> {
  return (await run('find', [root])).stdout.split('\n').filter(Boolean);
}

before(async () => {
  work = await tempDir();
  // The test's own dir is open to everyone: only the store's modes may keep uid 65534 out.
  await chmod(work, 0o755);
  root = join(work, 'root');
  const rootfs = join(work, 'rootfs');
  await mkdir(join(rootfs, 'dev'), { recursive: true });
  await copyFile(join(projectRoot, 'fixtures', 'scratch-hello', 'hello'), join(rootfs, 'suid'));
  await chmod(join(rootfs, 'suid'), 0o4755);
  await run('mknod', ['-m', '0666', join(rootfs, 'dev', 'zero'), 'c', '1', '5']);
  await run('tar', ['--numeric-owner', '-C', rootfs, '-cf', join(work, 'layer.tar'), '.']);
  const imported = await runCli(['import', join(work, 'layer.tar'), 'suid-image:1'], { root });
  assert.equal(imported.code, 0, imported.stderr);
  // Running it extracts the layer into <root>/layers/ (the overlay lower dir).
  const ran = await runCli(['run', '--rm', 'suid-image:1', '/suid'], { root });
  assert.equal(ran.code, 0, ran.stderr);
  const layerDirs = (await storePaths()).filter((p) => /\/layers\/[0-9a-f]{64}\/suid$/.test(p));
  assert.equal(layerDirs.length, 1, 'the layer is extracted');
  suid = layerDirs[0];
  const st = await stat(suid);
  assert.equal(st.mode & 0o7777, 0o4755, 'the binary keeps its setuid bit in the layer dir');
  assert.equal(st.uid, 0);
});

test('uid 65534 can reach a file outside the store (the probe itself works)', async () => {
  const control = join(work, 'control');
  await writeFile(control, 'x');
  await chmod(control, 0o644);
  assert.deepEqual(await reachableAsNobody([control], '/bin/true'), [`SEES ${control}`, `READ ${control}`, `LIST ${control}`, 'RAN /bin/true: ']);
});

test('uid 65534 can neither see, read, list, write nor run anything under the store, the setuid binary of a layer included', async () => {
  const paths = await storePaths();
  assert.ok(paths.some((p) => p.endsWith('/dev/zero')), 'the device node is in the store');
  assert.ok(paths.length > 20, `${paths.length} paths`);
  assert.deepEqual(await reachableAsNobody(paths, suid), []);
  const top = await stat(root);
  assert.equal(top.mode & 0o777, 0o700);
});

test('fsck reports modes that let other users in, --repair fixes them, and so does the next open', async () => {
  await chmod(root, 0o755);
  await chmod(join(root, 'layers'), 0o755);
  await chmod(join(root, 'oci'), 0o711);
  const found = await runCli(['fsck'], { root });
  assert.equal(found.code, 1);
  assert.deepEqual(found.stdout.trim().split('\n').sort(), [
    'layers: mode 0755 lets other users in (want 0700)',
    'oci: mode 0711 lets other users in (want 0700)',
    `store root ${root}: mode 0755 lets other users in (want 0700)`,
  ]);
  // fsck alone changes nothing: uid 65534 now reaches the layer's binary.
  assert.ok((await reachableAsNobody([suid], suid)).some((l) => l.startsWith('RAN ')), 'the hole fsck reports is real');

  const repaired = await runCli(['fsck', '--repair'], { root });
  assert.equal(repaired.code, 0, repaired.stdout + repaired.stderr);
  assert.match(repaired.stdout, /^layers: mode 0755 lets other users in \(want 0700\): repaired$/m);
  assert.equal((await runCli(['fsck'], { root })).code, 0);
  assert.deepEqual(await reachableAsNobody(await storePaths(), suid), []);

  await chmod(root, 0o755);
  await chmod(join(root, 'layers'), 0o775);
  assert.equal((await runCli(['images'], { root })).code, 0);
  assert.equal((await stat(root)).mode & 0o777, 0o700, 'the next open repaired the root');
  assert.equal((await stat(join(root, 'layers'))).mode & 0o777, 0o700);
  assert.deepEqual(await reachableAsNobody(await storePaths(), suid), []);
});

test('a store root given as a symlink: the folder it names is checked and repaired', async () => {
  const real = join(work, 'real-root');
  await mkdir(real, { mode: 0o755 });
  await chmod(real, 0o755);
  const link = join(work, 'root-link');
  await symlink(real, link);
  const store = await openStore(link, { isRepairingModes: false });
  assert.deepEqual((await store.fsck()).problems, [`store root ${link}: mode 0755 lets other users in (want 0700)`]);
  await openStore(link);
  assert.equal((await stat(real)).mode & 0o777, 0o700);
  assert.deepEqual((await (await openStore(link, { isRepairingModes: false })).fsck()).problems, []);
});
