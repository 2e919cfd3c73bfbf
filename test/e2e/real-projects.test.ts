import assert from 'node:assert/strict';
import { copyFile, cp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { projectRoot } from '../../common/index.js';
import { runCli } from '../../cli/tsbuild.js';
import { debianWork } from '../helpers/debian.js';

// Ordinary projects built as a new user would build them, unchanged, on the Debian fixture
// (an imported rootfs: its config has no PATH), and their images run (issue 15's "done
// means"): a C builder stage into scratch whose build needs $HOME, a venv-shaped app with
// ENV PATH="/venv/bin:$PATH", and a Node-shaped app.
let root: string;
let work: string;
let release: () => void;

before(async () => {
  ({ work, root, release } = await debianWork());
});

after(() => release());

/** The fixture copied to a fresh context (plus `extra` files), built as `name`. */
async function buildFixture(fixture: string, name: string, extra: Record<string, string> = {}) {
  const ctx = join(work, `ctx-${fixture}`);
  await cp(join(projectRoot, 'fixtures', fixture), ctx, { recursive: true });
  for (const [to, from] of Object.entries(extra)) await copyFile(from, join(ctx, to));
  return runCli(['build', '--progress', 'plain', '-t', name, ctx], { root });
}

test('a C builder stage into scratch builds with its cache under $HOME, and the image runs', async () => {
  const b = await buildFixture('c-builder', 'c-hello');
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /built \/out\/hello with its cache in \/root\/\.cache\/hello-build/);
  const r = await runCli(['run', '--rm', 'c-hello'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hello, world, from a static binary in a scratch image\n');
  const [image] = JSON.parse((await runCli(['inspect', 'c-hello'], { root })).stdout) as { Config: { WorkingDir?: string } }[];
  assert.equal(image.Config.WorkingDir, '/', 'a scratch image has BuildKit\'s WorkingDir');
});

test('a venv-shaped app with ENV PATH="/venv/bin:$PATH" on Debian keeps the system PATH, and its image runs', async () => {
  const b = await buildFixture('venv-app', 'venv-app');
  assert.equal(b.code, 0, b.stderr);
  const path = '/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  assert.match(b.stderr, new RegExp(`self-test passed with PATH=${path}`));
  const r = await runCli(['run', '--rm', 'venv-app'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `venv app running on Linux as root, PATH=${path}\n`);
});

test('a Node-shaped app installs through $HOME/.npm, runs as its USER with its HOME', async () => {
  const b = await buildFixture('node-app', 'node-app', { node: process.execPath });
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /added greeting@1\.0\.0 through \/root\/\.npm\/_cacache\/greeting-1\.0\.0\.js/);
  const r = await runCli(['run', '--rm', 'node-app'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hello, app (greeting@1.0.0)\nNODE_ENV=production HOME=/home/app cwd=/app\n');
});
