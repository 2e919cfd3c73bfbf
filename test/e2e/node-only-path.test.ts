import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { tempDir } from '../helpers/temp.js';

/**
 * The CLI needs no host tools: with `PATH` holding only `node`, a build (RUN, COPY of a file
 * with an xattr, ADD of a local .tar.gz), run, save, load, push, pull and prune all work.
 * The fixtures are made with the host's tools first; only tsbuild runs with the bare PATH.
 */

let registry: RegistryServer;
let work: string;
let root: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  registry = await startRegistry();
  ({ work, root } = await busyboxWork('tsbuild-node-only-'));
  const bin = join(work, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  env = { PATH: bin };
});

after(async () => {
  await registry?.stop();
});

const cli = (args: string[], r = root) => runCli(args, { root: r, env, cwd: work });

/** The layer dir (in `r`'s store) holding `rel`, for checks with the host's tools. */
function layerWith(r: string, rel: string): string {
  const dirs = readdirSync(join(r, 'layers')).map((d) => join(r, 'layers', d));
  const hit = dirs.find((d) => existsSync(join(d, rel)));
  assert.ok(hit, `some layer holds ${rel}`);
  return join(hit, rel);
}

test('build, run, save, load, push and pull with PATH holding only node', async () => {
  const ctx = join(work, 'ctx');
  mkdirSync(join(ctx, 'tree', 'sub'), { recursive: true });
  writeFileSync(join(ctx, 'note.txt'), 'copied\n');
  execFileSync('setfattr', ['-n', 'user.note', '-v', '0x00ff10', join(ctx, 'note.txt')]);
  writeFileSync(join(ctx, 'tree', 'sub', 'a'), 'from the archive\n');
  execFileSync('ln', [join(ctx, 'tree', 'sub', 'a'), join(ctx, 'tree', 'hard')]);
  symlinkSync('sub/a', join(ctx, 'tree', 'link'));
  execFileSync('tar', ['-czf', join(ctx, 'local.tar.gz'), '-C', join(ctx, 'tree'), '.']);
  writeFileSync(
    join(ctx, 'Dockerfile'),
    [
      'FROM busybox',
      'RUN echo ran > /ran && mkdir -p /data && mkfifo /data/fifo',
      'COPY note.txt /copied/note.txt',
      'ADD local.tar.gz /unpacked/',
      'RUN cat /unpacked/link /copied/note.txt > /both && rm /ran',
      '',
    ].join('\n'),
  );
  const name = `${registry.host}/nodeonly/app:1`;
  const iid = join(work, 'iid');
  const built = await cli(['build', '-q', '--iidfile', iid, '-t', name, ctx]);
  assert.equal(built.code, 0, built.stderr);
  const id = readFileSync(iid, 'utf8').trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);

  const ran = await cli(['run', '--rm', name, 'sh', '-c', 'cat /both /unpacked/hard; test -p /data/fifo && echo fifo; test -e /ran || echo removed']);
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout, 'from the archive\ncopied\nfrom the archive\nfifo\nremoved\n');
  assert.equal((await cli(['run', '--rm', name, 'sh', '-c', 'exit 3'])).code, 3);
  // run extracted the image's layers into the store: the COPY kept the context file's xattr.
  const note = layerWith(root, 'copied/note.txt');
  assert.match(execFileSync('getfattr', ['-e', 'hex', '-n', 'user.note', note], { encoding: 'utf8' }), /user\.note=0x00ff10/);

  const archive = join(work, 'app.tar');
  const saved = await cli(['save', '-o', archive, name]);
  assert.equal(saved.code, 0, saved.stderr);
  const other = await tempDir();
  const loaded = await cli(['load', '-i', archive], other);
  assert.equal(loaded.code, 0, loaded.stderr);
  assert.match(loaded.stdout, /^Loaded image: /m);
  const again = await cli(['run', '--rm', name, 'cat', '/copied/note.txt'], other);
  assert.equal(again.stdout, 'copied\n', again.stderr);
  assert.match(execFileSync('getfattr', ['-e', 'hex', '-n', 'user.note', layerWith(other, 'copied/note.txt')], { encoding: 'utf8' }), /0x00ff10/);

  const pushed = await cli(['push', name]);
  assert.equal(pushed.code, 0, pushed.stderr);
  const pushedDigest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1];
  const third = await tempDir();
  const pulled = await cli(['pull', name], third);
  assert.equal(pulled.code, 0, pulled.stderr);
  const pulledDigest = /^Digest: (sha256:[0-9a-f]{64})$/m.exec(pulled.stdout)?.[1];
  assert.ok(pulledDigest, pulled.stdout);
  assert.ok(pushedDigest, pushed.stdout);
  assert.equal(pulledDigest, pushedDigest, 'the pulled manifest is the pushed one');
  const inspected = JSON.parse((await cli(['inspect', name], third)).stdout) as { Id: string }[];
  assert.equal(inspected[0].Id, id, 'the pulled image has the built id');
  const fromPull = await cli(['run', '--rm', name, 'cat', '/unpacked/sub/a'], third);
  assert.equal(fromPull.stdout, 'from the archive\n', fromPull.stderr);

  // prune settles the extracted layers: one syncfs (through the helper, not `sync`), then
  // their tars go, and the image still saves from the dirs and their tar-splits.
  const settled = await cli(['prune']);
  assert.equal(settled.code, 0, settled.stderr);
  assert.equal(settled.stderr, '');
  const splits = readdirSync(join(root, 'tar-split')).filter((h) => /^[0-9a-f]{64}$/.test(h));
  assert.ok(splits.length > 0, 'run left extracted layers with tar-splits');
  for (const hex of splits) assert.equal(existsSync(join(root, 'oci', 'blobs', 'sha256', hex)), false, `the tar of layer ${hex} was dropped`);
  const resaved = await cli(['save', '-o', join(work, 'again.tar'), name]);
  assert.equal(resaved.code, 0, resaved.stderr);
  assert.deepEqual(readFileSync(join(work, 'again.tar')), readFileSync(archive), 'the same archive from the settled layers');

  assert.equal((await cli(['rmi', name], third)).code, 0);
  const pruned = await cli(['prune', '--all'], third);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.match(pruned.stdout, /Total reclaimed space: [1-9]/);
});

test('ADD of an xz archive without the xz program is one error naming the program and the file', async (t) => {
  try {
    execFileSync('xz', ['--version'], { stdio: 'ignore' });
  } catch {
    return t.skip('xz is not installed: the archive cannot be made');
  }
  const ctx = join(work, 'ctx-xz');
  mkdirSync(join(ctx, 'tree'), { recursive: true });
  writeFileSync(join(ctx, 'tree', 'f'), 'f\n');
  execFileSync('tar', ['-cJf', join(ctx, 'app.tar.xz'), '-C', join(ctx, 'tree'), '.']);
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nADD app.tar.xz /app/\n');
  const r = await cli(['build', '-q', '-t', 'xz-missing', ctx]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /error\[decompress-tool-missing\]: ADD .*app\.tar\.xz is xz-compressed, and the program "xz" that reads it is not installed/);
  assert.match(r.stderr, /hint: install the Debian package "xz-utils"/);
  assert.doesNotMatch(r.stderr, /this is a bug/);
});
