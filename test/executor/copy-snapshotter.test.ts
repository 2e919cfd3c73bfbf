/**
 * The copy snapshotter (executor/snapshotter.ts, issue 21 item 5): where overlay cannot be
 * mounted, a RUN runs in a private copy of the image and the layer is what the comparison
 * with the copy's earlier state finds. It must give the layers the overlay snapshotter gives,
 * byte for byte (so the same image ID under SOURCE_DATE_EPOCH): whiteouts as `.wh.NAME`,
 * a directory deleted and made again as opaque (`.wh..wh..opq`), as overlay's upper dir has
 * it and as BuildKit's overlay differ writes it (buildkit util/overlay/overlay_linux.go);
 * the comparison follows continuity's fs.Changes double walk (BuildKit's naive differ).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, type CliResult } from '../../cli/tsbuild.js';
import { makeBusybox } from '../helpers/busybox.js';
import { tempDir } from '../helpers/temp.js';

const SDE = '1700000000';

const DOCKERFILE = [
  'FROM busybox',
  'RUN mkdir -p /d/sub /d/keep /e /m/n && echo x > /d/sub/f && echo y > /d/keep/g && echo 1 > /e/one && echo h > /home/h && echo gone > /home/gone && chmod 600 /home/h && echo old > /m/n/o',
  'COPY a.txt /d/a.txt',
  // Adds, changes, deletes; a dir deleted and made again; a file replaced by a dir; chmod,
  // chown; a new hardlink to an old file and a new pair; a symlink, a fifo, a device; a dir moved.
  'RUN echo add > /added && mkdir -p /newdir/deep && echo n > /newdir/deep/n && echo more >> /etc/passwd && rm /home/gone' +
    ' && rm -rf /d/sub && mkdir /d/sub && echo z > /d/sub/new && chmod 700 /d/keep && chmod 640 /d/keep/g && chown 1000:1001 /e/one' +
    ' && ln /e/one /e/two && echo l > /lnk1 && ln /lnk1 /lnk2 && rm /bin/vi && rm -rf /var && rm /home/h && mkdir /home/h' +
    ' && ln -s /etc/passwd /sym && mkfifo /fifo && mknod /cdev c 1 3 && mv /m/n /moved',
  'RUN --mount=type=cache,target=/root/.cache/c --mount=type=secret,id=tok,target=/run/s/tok --mount=type=tmpfs,target=/scratch' +
    ' test "$(cat /run/s/tok)" = s3cret && echo c >> /root/.cache/c/n && echo done > /root/done',
  'RUN true',
  '',
].join('\n');

let work: string;
let ctx: string;
let overlayId: string;

function ok(r: CliResult, what: string): string {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A store holding busybox: one made once, copied, so that every store has the same base image. */
function storeWithBusybox(name: string): string {
  const root = join(work, name);
  mkdirSync(root, { recursive: true });
  execFileSync('cp', ['-a', `${join(work, 'base-store')}/.`, root]);
  return root;
}

function build(root: string, env: Record<string, string> = {}, context = ctx) {
  const secret = ['--secret', `id=tok,src=${join(ctx, 'tok.txt')}`];
  return runCli(['build', '-q', ...secret, '-t', 'snap', context], { root, env: { SOURCE_DATE_EPOCH: SDE, ...env } });
}

/** `type uid/gid path` of every entry of the image's layers past the base, from a `save` (the tars as they are). */
async function layerEntries(root: string): Promise<string[][]> {
  const dir = await tempDir('tsbuild-copysnap-saved-');
  ok(await runCli(['save', '-o', join(dir, 'image.tar'), 'snap'], { root }), 'save');
  execFileSync('tar', ['-xf', join(dir, 'image.tar'), '-C', dir]);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
  return manifest[0].Layers.slice(1).map((l) =>
    execFileSync('tar', ['-tvf', join(dir, l), '--numeric-owner'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((row) => {
        const f = row.split(/\s+/);
        return `${f[0]} ${f[1]} ${f[2]} ${f.slice(5).join(' ')}`;
      }),
  );
}

before(async () => {
  work = await tempDir('tsbuild-copysnap-');
  ctx = join(work, 'ctx');
  mkdirSync(ctx);
  writeFileSync(join(ctx, 'Dockerfile'), DOCKERFILE);
  writeFileSync(join(ctx, 'a.txt'), 'from the context\n');
  writeFileSync(join(ctx, 'tok.txt'), 's3cret');
  await makeBusybox(join(work, 'base-store'), join(work, 'base-work'));
});

test('copy snapshotter: the same layers, byte for byte, as overlay (adds, changes, deletes, a dir made again, chmod, chown, hardlinks)', async () => {
  const overlayRoot = storeWithBusybox('overlay-store');
  const copyRoot = storeWithBusybox('copy-store');
  overlayId = ok(await build(overlayRoot, { TSBUILD_SNAPSHOTTER: 'overlay' }), 'overlay build');
  const copyId = ok(await build(copyRoot, { TSBUILD_SNAPSHOTTER: 'copy' }), 'copy build');
  const viaOverlay = await layerEntries(overlayRoot);
  const viaCopy = await layerEntries(copyRoot);
  assert.deepEqual(viaCopy, viaOverlay, 'the same entries in each layer');
  assert.equal(copyId, overlayId, 'the same image ID');
  // The cases are really there (the overlay snapshotter's own answer, which the copy matched).
  const changes = viaOverlay[2].map((row) => { const f = row.split(' '); return `${f[0][0]} ${f[1]} ${f.slice(3).join(' ')}`; });
  for (const want of ['- 0/0 .wh.var', '- 0/0 bin/.wh.vi', 'd 0/0 d/sub/', '- 0/0 d/sub/.wh..wh..opq', '- 0/0 home/.wh.gone', '- 0/0 home/h/.wh..wh..opq',
    'd 0/0 d/keep/', '- 1000/1001 e/one', 'h 1000/1001 e/two link to e/one', 'h 0/0 lnk2 link to lnk1', 'p 0/0 fifo', 'c 0/0 cdev', 'l 0/0 sym -> /etc/passwd',
    '- 0/0 etc/passwd', '- 0/0 moved/o', '- 0/0 m/.wh.n'])
    assert.ok(changes.includes(want), `the RUN's layer holds ${want}:\n${changes.join('\n')}`);
  // Mount targets are no change of the step's own; the secret is in no layer.
  assert.deepEqual(viaOverlay[3].map((row) => row.split(' ').slice(-1)[0]), ['root/', 'root/done']);
  assert.equal(viaOverlay.length, 4, 'RUN true adds no layer');
  // The copy build's RUN really ran in the copy: its / is no overlay.
  const probe = join(work, 'ctx-probe');
  mkdirSync(probe);
  writeFileSync(join(probe, 'Dockerfile'), 'FROM busybox\nRUN awk \'$5 == "/"\' /proc/self/mountinfo > /tmp/root && ! grep -q " - overlay " /tmp/root\n');
  ok(await runCli(['build', '-q', probe], { root: copyRoot, env: { TSBUILD_SNAPSHOTTER: 'copy' } }), 'a RUN whose / is no overlay');
  assert.notEqual((await runCli(['build', '-q', probe], { root: overlayRoot, env: { TSBUILD_SNAPSHOTTER: 'overlay' } })).code, 0, 'with overlay it is one');
  // The copy's run sees what the overlay's run sees.
  const r = await runCli(['run', '--rm', 'snap', 'sh', '-c', 'cat /d/sub/new /d/a.txt; ls /home/h | wc -l; test -e /var || echo no-var; stat -c %a /d/keep'], { root: copyRoot });
  assert.deepEqual(ok(r, 'run').split('\n'), ['z', 'from the context', '0', 'no-var', '700']);
});

let overlayStore: string | undefined;
after(() => {
  if (overlayStore) execFileSync('umount', ['-l', overlayStore]);
});

test('copy snapshotter: a store where overlay cannot be mounted (an overlayfs) picks the copy by itself, and info says so', async () => {
  // overlayfs refuses an overlayfs as an upper dir ("not supported as upperdir"): a store
  // there is what tsbuild in a container without a volume has.
  const o = join(work, 'ovl');
  for (const d of ['lower', 'upper', 'work', 'store']) mkdirSync(join(o, d), { recursive: true });
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${o}/lower,upperdir=${o}/upper,workdir=${o}/work`, join(o, 'store')]);
  overlayStore = join(o, 'store');
  execFileSync('cp', ['-a', `${join(work, 'base-store')}/.`, overlayStore]);
  const info = await runCli(['info'], { root: overlayStore });
  assert.match(info.stdout, /^snapshots: +copies of the image, slower: overlayfs cannot be mounted in the store \(mount overlay on \S+: Invalid argument\)$/m, info.stdout);
  // No deletions here: overlayfs also refuses the 0/0 devices an extracted layer keeps its
  // whiteouts as, so a later step could not read such a layer from this store.
  const simple = join(work, 'ctx-simple');
  mkdirSync(simple);
  writeFileSync(join(simple, 'Dockerfile'), 'FROM busybox\nRUN echo hi > /hi && chmod 600 /hi && chown 7:8 /etc/passwd\nCOPY a.txt /\nRUN cat /hi /a.txt > /both\n');
  writeFileSync(join(simple, 'a.txt'), 'a\n');
  const viaOverlay = ok(await build(storeWithBusybox('simple-overlay-store'), { TSBUILD_SNAPSHOTTER: 'overlay' }, simple), 'overlay build');
  assert.equal(ok(await build(overlayStore, {}, simple), 'build on an overlayfs store'), viaOverlay, 'the image ID overlay gives');
});

test('info: the snapshotter chosen, TSBUILD_SNAPSHOTTER forcing it, a bad value one error line', async () => {
  const root = join(work, 'overlay-store');
  assert.match(ok(await runCli(['info'], { root }), 'info'), /^snapshots: +overlayfs$/m);
  assert.match(ok(await runCli(['info'], { root, env: { TSBUILD_SNAPSHOTTER: 'copy' } }), 'info'), /^snapshots: +copies of the image \(TSBUILD_SNAPSHOTTER=copy\)$/m);
  const bad = await runCli(['build', '-q', ctx], { root, env: { TSBUILD_SNAPSHOTTER: 'vfs' } });
  assert.notEqual(bad.code, 0);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /TSBUILD_SNAPSHOTTER="vfs" is not one of auto, overlay, copy/);
});

test('run under the copy snapshotter: the container runs in a copy; diff, commit and start see what overlay sees', async () => {
  const script = 'echo hi >> /root/x && rm -f /bin/vi && rm -rf /home && mkdir -p /home && chmod 700 /tmp && awk \'$5 == "/"\' /proc/self/mountinfo > /tmp/root && ! grep -q " - overlay " /tmp/root';
  const seen: Record<string, { diff: string; layer: string[] }> = {};
  for (const mode of ['overlay', 'copy'] as const) {
    const root = storeWithBusybox(`run-${mode}-store`);
    const env = { TSBUILD_SNAPSHOTTER: mode };
    const r = await runCli(['run', '--name', 'c', 'busybox', 'sh', '-c', script], { root, env });
    if (mode === 'overlay') assert.notEqual(r.code, 0, 'over overlay the root is an overlay');
    else ok(r, 'run in a copy');
    const diff = ok(await runCli(['diff', 'c'], { root, env }), 'diff');
    ok(await runCli(['commit', 'c', 'snap'], { root, env }), 'commit');
    // Without SOURCE_DATE_EPOCH a commit keeps real times: compare type, mode, owner and path.
    const layer = (await layerEntries(root)).flat().map((row) => { const f = row.split(' '); return `${f[0]} ${f[1]} ${f.slice(3).join(' ')}`; });
    seen[mode] = { diff, layer };
    // `start` runs the same container again, in its own filesystem.
    ok(await runCli(['start', 'c'], { root, env }), 'start');
    assert.equal(ok(await runCli(['wait', 'c'], { root, env }), 'wait'), mode === 'copy' ? '0' : '1');
    assert.equal(ok(await runCli(['run', '--rm', 'snap', 'cat', '/root/x'], { root, env }), 'run the commit'), 'hi');
    assert.equal(ok(await runCli(['commit', 'c', 'again'], { root, env }), 'commit after start').length > 0, true);
    assert.equal(ok(await runCli(['run', '--rm', 'again', 'cat', '/root/x'], { root, env }), 'run the second commit'), 'hi\nhi', 'start ran in the container\'s own filesystem');
  }
  assert.equal(seen.copy.diff, seen.overlay.diff, 'the same diff');
  assert.deepEqual(seen.copy.layer, seen.overlay.layer, 'the same committed layer');
  assert.match(seen.copy.diff, /^D \/bin\/vi$/m);
  assert.match(seen.copy.diff, /^A \/root\/x$/m);
});
