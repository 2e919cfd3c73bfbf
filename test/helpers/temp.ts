import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** A fresh temp dir removed when the test file finishes (unless KEEP_TEST_OUTPUT is set). */
export async function tempDir(prefix = 'tsbuild-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  after(async () => {
    if (!process.env.KEEP_TEST_OUTPUT) await rm(dir, { recursive: true, force: true });
  });
  return dir;
}
