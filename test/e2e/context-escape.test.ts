import assert from 'node:assert/strict';
import { lstat, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { writeTree } from '../helpers/files.js';
import { tempDir } from '../helpers/temp.js';
import { saveAndUnpack } from '../helpers/unpack.js';

// The build context cannot be escaped: `..`, absolute paths and symlinks are confined to
// the context (or to the --from stage's root), never followed out of it.
async function setup() {
  const work = await tempDir();
  const secret = join(work, 'secret.txt');
  await writeFile(secret, 'outside the context\n');
  const ctx = join(work, 'ctx');
  await writeTree(ctx, {
    'in.txt': 'inside\n',
    'dir/to-secret': { link: secret },
    'dir/to-parent': { link: '../../secret.txt' },
    'link-out': { link: secret },
  });
  return { work, ctx, root: join(work, 'root') };
}

async function build(ctx: string, root: string, dockerfile: string) {
  await writeFile(join(ctx, 'Dockerfile'), dockerfile);
  return runCli(['build', '--progress', 'plain', '-t', 'escape', ctx], { root });
}

test('COPY ../secret.txt is confined to the context: not found, nothing outside is read', async () => {
  const { ctx, root } = await setup();
  const r = await build(ctx, root, 'FROM scratch\nCOPY ../secret.txt /s\n');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /"\/secret\.txt": not found/);
  assert.doesNotMatch(r.stderr, /outside the context/);
});

test('an absolute source is relative to the context', async () => {
  const { ctx, root } = await setup();
  const r = await build(ctx, root, 'FROM scratch\nCOPY /in.txt /copied\n');
  assert.equal(r.code, 0, r.stderr);
});

test('a symlink source pointing outside the context is not followed out', async () => {
  const { ctx, root } = await setup();
  const r = await build(ctx, root, 'FROM scratch\nCOPY link-out /x\n');
  assert.equal(r.code, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /outside the context/);
});

test('symlinks inside a copied directory are copied as links, their targets never read', async () => {
  const { work, ctx, root } = await setup();
  const r = await build(ctx, root, 'FROM scratch\nCOPY dir/ /d/\n');
  assert.equal(r.code, 0, r.stderr);
  const { bundle } = await saveAndUnpack(root, 'escape', join(work, 'unpack'));
  assert.ok((await lstat(join(bundle, 'rootfs/d/to-secret'))).isSymbolicLink());
  assert.equal(await readlink(join(bundle, 'rootfs/d/to-parent')), '../../secret.txt');
});

test('COPY --from a stage with .. in the path stays inside that stage', async () => {
  const { work, ctx, root } = await setup();
  const r = await build(ctx, root, 'FROM scratch AS s\nCOPY in.txt /in.txt\nFROM scratch\nCOPY --from=s ../../../in.txt /got\n');
  assert.equal(r.code, 0, r.stderr);
  const { bundle } = await saveAndUnpack(root, 'escape', join(work, 'unpack'));
  assert.equal(await readFile(join(bundle, 'rootfs/got'), 'utf8'), 'inside\n');
});
