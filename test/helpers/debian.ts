import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../common/index.js';
import { tempDir } from './temp.js';

const exec = promisify(execFile);

/**
 * A fresh work dir and, inside it, a store on its own tmpfs (nothing depends on /var/lib)
 * holding debian:bookworm and debian:latest from fixtures/debian/make.sh. `release` unmounts it.
 */
export async function debianWork(): Promise<{ work: string; root: string; release(): void }> {
  const work = await tempDir();
  const root = join(work, 'tmpfs-root');
  await mkdir(root);
  await exec('mount', ['-t', 'tmpfs', '-o', 'size=4g', 'tmpfs', root]);
  const made = spawnSync('bash', [join(projectRoot, 'fixtures', 'debian', 'make.sh'), '--root', root], { encoding: 'utf8' });
  assert.equal(made.status, 0, `fixtures/debian/make.sh failed (is the Debian archive reachable?):\n${made.stderr}`);
  return { work, root, release: () => void spawnSync('umount', ['-l', root]) };
}
