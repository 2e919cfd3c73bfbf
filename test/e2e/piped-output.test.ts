import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliPath } from '../../cli/tsbuild.js';
import { tempDir } from '../helpers/temp.js';

/** A Dockerfile whose `parse --json` is several MB, far past a pipe's 64 KiB buffer. */
async function bigDockerfile(): Promise<string> {
  const dir = await tempDir('tsbuild-pipe-');
  const file = join(dir, 'Dockerfile');
  const lines = ['FROM scratch', ...Array.from({ length: 20000 }, (_, i) => `LABEL k${i}=value-${i}-xxxxxxxxxxxxxxxxxxxxxxxx`)];
  await writeFile(file, lines.join('\n') + '\n');
  return file;
}

test('output to a slow pipe arrives whole: the CLI exits only once stdout has drained', async () => {
  const file = await bigDockerfile();
  const whole = execFileSync(cliPath, ['parse', '--json', '-f', file], { maxBuffer: 1 << 28 }).length;
  assert.ok(whole > 1 << 20, `the output is large (${whole} bytes)`);
  // The reader starts a second late, so the pipe is full while tsbuild finishes.
  const counted = execFileSync('sh', ['-c', `"${cliPath}" parse --json -f "${file}" | (sleep 1; wc -c)`], { encoding: 'utf8' });
  assert.equal(Number(counted.trim()), whole);
});

test('a reader that stops early (| head) ends tsbuild quietly with its own exit code', async () => {
  const file = await bigDockerfile();
  const out = execFileSync('bash', ['-c', `"${cliPath}" parse --json -f "${file}" 2>&1 | head -c 5; echo " rc=\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
  assert.match(out, / rc=0$/m);
  assert.doesNotMatch(out, /EPIPE|bug/);
});
