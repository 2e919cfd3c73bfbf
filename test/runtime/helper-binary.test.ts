import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { helperPath, projectRoot } from '../../common/index.js';

const programs = [
  { name: 'the runtime helper', path: helperPath },
  { name: 'the front door', path: join(projectRoot, 'front-door', 'tsbuild-front') },
];
for (const p of programs) {
  test(`${p.name} is static: no dynamic section, no interpreter`, () => {
    const dyn = execFileSync('readelf', ['-d', p.path], { encoding: 'utf8' });
    assert.match(dyn, /There is no dynamic section in this file/);
    const headers = execFileSync('readelf', ['-l', p.path], { encoding: 'utf8' });
    assert.doesNotMatch(headers, /INTERP/);
  });
}

test('the runtime helper has no front door in it', () => {
  const bytes = readFileSync(helperPath);
  for (const s of ['--front', 'tsbuild-replay']) assert.ok(!bytes.includes(s), `the helper still holds "${s}"`);
});

test('a malformed spec is refused with exit 125 and a reason on fd 4', () => {
  let status = '';
  try {
    execFileSync('sh', ['-c', `printf 'bogus=1\\0' | ${helperPath} 3<&0 4>&1`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { status: number; stdout: string };
    assert.equal(err.status, 125);
    status = err.stdout;
  }
  assert.equal(status, 'spec EINVAL bogus\n');
});
