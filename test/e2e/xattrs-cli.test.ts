import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { tempDir } from '../helpers/temp.js';

// Binary xattrs (security.capability and the like) through the CLI a user runs: the raw PAX
// bytes must survive the bundled codec as they do in the store's unit tests
// (test/store/layers.test.ts).
test('a binary xattr in an imported layer survives extraction by the tsbuild CLI', async () => {
  const work = await tempDir();
  const root = join(work, 'root');
  const src = join(work, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'cap'), 'x');
  execFileSync('setfattr', ['-n', 'trusted.bin', '-v', '0x01000002002000ffe80000', join(src, 'cap')]);
  const layer = join(work, 'layer.tar');
  execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-cf', layer, '-C', src, 'cap']);
  const imported = await runCli(['--root', root, 'import', layer, 'capimg'], { cwd: work });
  assert.equal(imported.code, 0, imported.stderr);
  // COPY --from an image reads that image's layer as a directory: the store extracts it.
  const ctx = join(work, 'ctx');
  mkdirSync(ctx);
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY --from=capimg /cap /cap\n');
  const built = await runCli(['--root', root, 'build', '-q', '-t', 'capcopy', ctx], { cwd: work });
  assert.equal(built.code, 0, built.stderr);
  const dirs = readdirSync(join(root, 'layers'));
  const hex = dirs.map((d) => execFileSync('getfattr', ['-e', 'hex', '-n', 'trusted.bin', join(root, 'layers', d, 'cap')], { encoding: 'utf8' }));
  assert.match(hex.join(''), /trusted\.bin=0x01000002002000ffe80000/);
});
