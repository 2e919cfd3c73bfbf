import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../../common/index.js';

// Each case runs in a fresh Node without flags, as the tsbuild bin starts it: a walk-like
// churn (a window of 50,000 live objects) then the young generation's size.
function youngGenerationAfterChurn(entries: number | undefined): number {
  const common = join(projectRoot, 'dist', 'common', 'index.js');
  const script = `
    const { noteEntries } = await import(${JSON.stringify(common)});
    ${entries === undefined ? '' : `noteEntries(${entries});`}
    const N = 50000, live = new Array(N);
    for (let i = 0; i < 2e6; i++) live[i % N] = { i, name: 'f' + (i % 977), st: [i, i] };
    const v8 = await import('node:v8');
    const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
    console.log(s.space_size);`;
  const env = { ...process.env };
  delete env.TSBUILD_CODE_CACHE;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

test('a walk past 1000 entries keeps the young generation at its starting 2 MB', () => {
  const MB = 1 << 20;
  // Without the cap, V8 grows it (so this test can tell the two apart)...
  assert.ok(youngGenerationAfterChurn(undefined) > 4 * MB, 'V8 did not grow the young generation on its own');
  // ...below the threshold nothing changes...
  assert.ok(youngGenerationAfterChurn(999) > 4 * MB, 'capped below the threshold');
  // ...and past it the semi-spaces stay at their initial 1 MB each.
  assert.ok(youngGenerationAfterChurn(1000) <= 2 * MB, 'the young generation grew past the cap');
});
