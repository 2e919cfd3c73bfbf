import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
// Removed when the test process exits (not with node:test's after(): called from a
// before() hook it fires as soon as that hook ends). KEEP_TEST_OUTPUT=1 keeps them.
process.on('exit', () => {
  if (process.env.KEEP_TEST_OUTPUT) return;
  // A store's detached extractor (store/extract-detached.ts) may still be writing in it: retried until it is done.
  for (const dir of made) rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
});

/** A fresh temp dir, removed when the test process exits. */
export async function tempDir(prefix = 'tsbuild-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
