import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../common/index.js';
import { mountTmpfs, type MountedTmpfs } from './tmpfs.js';

/**
 * A RUN step's private dir: a small tmpfs (nodev, nosuid, noexec, mode 0700) in the step's
 * temp dir for what must never reach a disk: `RUN --mount=type=secret` files (bound
 * read-only into the step) and the generated /etc/resolv.conf, hosts and hostname. It is
 * unmounted when the step ends; after a SIGKILL the store's next open unmounts and removes
 * it (it is in the dead build's temp dir, store/temp.ts).
 */
export interface StepPrivate {
  /** Where secret files go. */
  secretsDir: string;
  /** Where the /etc files go (ContainerSpec.etcDir). */
  etcDir: string;
  unmount(): Promise<void>;
}

/** Room for the /etc files, directories and inodes, beyond the secrets' own bytes. */
const BASE_BYTES = 1024 ** 2;
const PAGE = 4096;

/** Mount the private dir under `tmp`, sized for `secretBytes` (each value's length). */
export async function mountStepPrivate(tmp: string, secretBytes: readonly number[]): Promise<StepPrivate> {
  const sizeBytes = BASE_BYTES + secretBytes.reduce((sum, n) => sum + Math.ceil(n / PAGE + 1) * PAGE, 0);
  const dir = join(tmp, 'private');
  let mounted: MountedTmpfs | undefined;
  try {
    mounted = await mountTmpfs(dir, { name: 'tsbuild-private', sizeBytes, mode: 0o700, options: 'nodev,nosuid,noexec' });
  } catch {
    mounted = undefined;
  }
  if (!mounted) {
    // Never written to a disk instead: without the tmpfs the step does not run.
    throw new UserError('private-tmpfs', `RUN: cannot mount the in-memory dir for the step's secrets and /etc files at ${dir}`, {
      where: dir,
      hint: 'tsbuild needs to mount tmpfs (run it as root)',
    });
  }
  const secretsDir = join(dir, 'secrets');
  const etcDir = join(dir, 'etc');
  await Promise.all([secretsDir, etcDir].map((d) => mkdir(d, { mode: 0o700 })));
  return { secretsDir, etcDir, unmount: () => mounted.unmount() };
}
