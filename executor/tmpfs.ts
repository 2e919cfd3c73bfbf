import { mkdir, statfs } from 'node:fs/promises';
import { mount, unmount } from './mount.js';
import { tmpfsBudget, type Reservation } from './memory-budget.js';

/**
 * Private, size-capped tmpfs mounts for what a build writes and throws away: RUN upper dirs
 * (exec-step.ts, placed by upper-place.ts), the layer dirs of this build's own COPY layers
 * (build-layers.ts), and a step's secrets and /etc files (step-private.ts). Creating many
 * small files on ext4 costs an order of magnitude more than on tmpfs (bench/RESULTS.md,
 * "Measurements behind the code"). Each lives in the store's tmp/ under the build's pid, so a killed build's
 * mounts are unmounted and removed at the next open (store/temp.ts). Every size is reserved
 * from the process's memory budget (memory-budget.ts) while mounted.
 */

export interface TmpfsOptions {
  /** The mount's source name, seen in /proc/mounts. */
  name: string;
  sizeBytes: number;
  /** Extra mount options (`nodev,nosuid,noexec`); the default mode is 0755. */
  options?: string;
  mode?: number;
}

export interface MountedTmpfs {
  readonly dir: string;
  readonly sizeBytes: number;
  /** Unmount (lazily when busy) and give the size back to the budget; idempotent. */
  unmount(): Promise<void>;
}

/** Mount a private tmpfs at `dir`; undefined (nothing mounted) when tmpfs cannot be mounted. */
export async function mountTmpfs(dir: string, opts: TmpfsOptions): Promise<MountedTmpfs | undefined> {
  await mkdir(dir, { recursive: true });
  const reservation: Reservation = tmpfsBudget.reserve(opts.sizeBytes);
  const mode = (opts.mode ?? 0o755).toString(8).padStart(4, '0');
  try {
    await mount('tmpfs', opts.name, dir, [`size=${opts.sizeBytes}`, `mode=${mode}`, ...(opts.options ? [opts.options] : [])].join(','));
  } catch {
    reservation.release();
    return undefined;
  }
  let done: Promise<void> | undefined;
  return {
    dir,
    sizeBytes: opts.sizeBytes,
    unmount() {
      done ??= unmountTmpfs(dir).finally(() => reservation.release());
      return done;
    },
  };
}

/** Whether the tmpfs `t` ran out of space (less than an eighth of it, at most 8 MiB, left) or of inodes. */
export async function isTmpfsFull(t: MountedTmpfs): Promise<boolean> {
  const s = await statfs(t.dir);
  return s.bavail * s.bsize < Math.min(8 * 1024 ** 2, t.sizeBytes / 8) || s.ffree < 1024;
}

/** Unmount a tmpfs; lazily when it is busy (a container of a failed build may still hold it). */
async function unmountTmpfs(dir: string): Promise<void> {
  await unmount(dir).catch(() => unmount(dir, { lazy: true }).catch(() => {}));
}
