import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { helperPath } from '../../common/index.js';

test('the runtime helper is static: no dynamic section, no interpreter', () => {
  const dyn = execFileSync('readelf', ['-d', helperPath], { encoding: 'utf8' });
  assert.match(dyn, /There is no dynamic section in this file/);
  const headers = execFileSync('readelf', ['-l', helperPath], { encoding: 'utf8' });
  assert.doesNotMatch(headers, /INTERP/);
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
