/**
 * The public API from the outside: `npm pack` this package, install the tarball into a
 * separate project, and run the README's example there as written (a build and a run of a
 * FROM scratch image), plus a failure, which must be a UserError the caller can read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../../common/index.js';
import { tempDir } from '../helpers/temp.js';

/** The README's example: the js block after the api-example marker. */
async function readmeExample(): Promise<string> {
  const readme = await readFile(join(projectRoot, 'README.md'), 'utf8');
  const m = /<!-- api-example[^>]*-->\n```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, 'README.md has the api-example block');
  return m[1];
}

test('the packed package installs into another project and runs the README example', async () => {
  const work = await tempDir('tsbuild-api-');
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: projectRoot, encoding: 'utf8' }).trim().split('\n').pop()!;
  const app = join(work, 'app');
  await mkdir(app);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'api-user', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(work, packed)], { cwd: app, stdio: 'pipe' });
  await mkdir(join(app, 'hello'));
  await cp(join(projectRoot, 'fixtures', 'scratch-hello', 'hello'), join(app, 'hello', 'hello'));
  await writeFile(join(app, 'hello', 'Dockerfile'), 'FROM scratch\nADD hello /\nCMD ["/hello"]\n');
  await writeFile(join(app, 'example.mjs'), await readmeExample());

  const out = execFileSync('node', ['example.mjs'], { cwd: app, encoding: 'utf8', env: { PATH: process.env.PATH } });
  assert.match(out, /^\[\d+\/\d+\] ADD hello \/$/m, 'a progress event named the step');
  assert.match(out, /^Hello world!$/m, 'the container ran and printed through the caller');
  const [id, code] = out.trim().split('\n').pop()!.split(' ');
  assert.equal(code, '0');
  // The image is in the store the example named, under its tag: what the installed CLI and skopeo see.
  const images = execFileSync(join(app, 'node_modules', '.bin', 'tsbuild'), ['--root', join(app, 'store'), 'images', '-q', '--no-trunc'], { encoding: 'utf8' });
  assert.equal(images.trim(), id);
  const inspected = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `oci:${join(app, 'store', 'oci')}:docker.io/library/saluda:latest`], { encoding: 'utf8' }));
  assert.deepEqual(inspected.config.Cmd, ['/hello']);

  // A caller's mistake is a UserError with its code, not a crash.
  await writeFile(
    join(app, 'missing.mjs'),
    "import { build, UserError } from 'tsbuild';\n" +
      "try { await build({ context: 'nowhere', store: 'store' }); } catch (e) { console.log(e instanceof UserError, e.code, e.message); }\n",
  );
  assert.equal(
    execFileSync('node', ['missing.mjs'], { cwd: app, encoding: 'utf8' }).trim(),
    'true context-missing unable to prepare context: path "nowhere" not found',
  );
  // The types ship with it.
  const pkg = JSON.parse(await readFile(join(app, 'node_modules', 'tsbuild', 'package.json'), 'utf8'));
  await readFile(join(app, 'node_modules', 'tsbuild', pkg.types), 'utf8');
});
