/**
 * The launcher (cli/launch.ts, bundled as dist/tsbuild.cjs) runs at every start: it imports
 * common/ through its door for `projectRoot`, and the bundler must keep only that. Were
 * common's other modules to run their top-level code there (user-namespace.ts reads
 * /proc/self/uid_map), every command would pay for it twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../common/index.js';
import { tempDir } from '../helpers/temp.js';

const launcher = readFileSync(join(projectRoot, 'dist', 'tsbuild.cjs'), 'utf8');

test('the launcher bundle requires only Node built-ins', () => {
  const required = [...launcher.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
  assert.ok(required.length > 0);
  assert.deepEqual(required.filter((r) => !r.startsWith('node:')), []);
});

test('the launcher bundle leaves out the parts of common/ it does not use', () => {
  assert.doesNotMatch(launcher, /uid_map/);
  assert.ok(launcher.length < 16 * 1024, `dist/tsbuild.cjs is ${launcher.length} bytes`);
});

// Loaded at their first use (common/builtin.ts): a fully cached build needs none of them.
const LAZY_BUILTINS = ['http', 'tls', 'zlib', 'worker_threads'];

test('a fully cached build loads no http, tls, zlib or worker_threads', async () => {
  const root = await tempDir('tsbuild-lazy-builtins-');
  const ctx = join(projectRoot, 'fixtures', 'scratch-hello');
  const cli = join(projectRoot, 'dist', 'tsbuild.cjs');
  const env = { ...process.env, TSBUILD_REPLAY: 'off' };
  const cold = spawnSync('node', [cli, '--root', root, 'build', '-q', ctx], { env, encoding: 'utf8' });
  assert.equal(cold.status, 0, cold.stderr);
  // Prints the built-ins the process loaded, at its exit, on fd 3.
  const preload = join(root, 'loaded.cjs');
  writeFileSync(preload, "process.on('exit', () => require('node:fs').writeSync(3, process.moduleLoadList.join('\\n')));\n");
  const cached = spawnSync('node', ['-r', preload, cli, '--root', root, 'build', '-q', ctx], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  assert.equal(cached.status, 0, cached.stderr);
  assert.equal(cached.stdout, cold.stdout, 'the same image, from the cache');
  const loaded = new Set(String(cached.output[3]).split('\n'));
  assert.ok(loaded.has('NativeModule crypto'), 'the list of loaded modules was read');
  assert.deepEqual(LAZY_BUILTINS.filter((m) => loaded.has(`NativeModule ${m}`)), []);
});

test('the exec-form grammar (Chevrotain) is loaded only by an exec form JSON.parse cannot read', async () => {
  const root = await tempDir('tsbuild-lazy-grammar-');
  const cli = join(projectRoot, 'dist', 'tsbuild.cjs');
  const env = { ...process.env, TSBUILD_REPLAY: 'off' };
  // Prints the CommonJS files the process loaded, at its exit, on fd 3.
  const preload = join(root, 'loaded.cjs');
  writeFileSync(preload, "process.on('exit', () => require('node:fs').writeSync(3, Object.keys(require.cache).join('\\n')));\n");
  const build = (name: string, dockerfile: string) => {
    const ctx = join(root, name);
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), dockerfile);
    const r = spawnSync('node', ['-r', preload, cli, '--root', root, 'build', '-q', ctx], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    assert.equal(r.status, 0, r.stderr);
    const files = String(r.output[3]).split('\n');
    assert.ok(files.includes(cli), `the list of loaded files was read: ${files.join(' ')}`);
    const inspect = spawnSync('node', [cli, '--root', root, 'inspect', r.stdout.trim()], { env, encoding: 'utf8' });
    assert.equal(inspect.status, 0, inspect.stderr);
    const [image] = JSON.parse(inspect.stdout) as { Config: { Cmd: string[] } }[];
    return { isGrammarLoaded: files.some((f) => f.endsWith('tsbuild-grammar.cjs')), cmd: image.Config.Cmd };
  };
  assert.deepEqual(build('plain', 'FROM scratch\nCMD ["/hello", "world"]\n'), { isGrammarLoaded: false, cmd: ['/hello', 'world'] });
  // Escapes: the grammar reads them, as Go's decoder does.
  assert.deepEqual(build('escaped', 'FROM scratch\nCMD ["/hello", "a\\\\b", "\\u00e9"]\n'), { isGrammarLoaded: true, cmd: ['/hello', 'a\\b', '\u00e9'] });
});
