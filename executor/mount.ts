import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { helperPath } from '../common/index.js';

const run = promisify(execFile);

/**
 * Mounts the executor makes outside containers (tmpfs, read-only overlay views), made by the
 * static helper (runtime-helper/mount-cmd.c) rather than util-linux's mount(8), whose
 * start-up alone costs more than the mount: a multi-stage build makes several. Options as
 * mount -o takes them (`ro` is the read-only flag). Rejects with the helper's one-line
 * reason (`mount overlay on /x: Invalid argument`).
 */
export function mount(fstype: string, source: string, target: string, options: string, opts: { cwd?: string } = {}): Promise<void> {
  return helper(['--mount', fstype, source, target, options], opts.cwd);
}

/** Unmount `target`; `lazy` detaches a busy mount (MNT_DETACH). */
export function unmount(target: string, opts: { lazy?: boolean } = {}): Promise<void> {
  return helper(['--umount', target, ...(opts.lazy ? ['lazy'] : [])]);
}

async function helper(args: string[], cwd?: string): Promise<void> {
  try {
    await run(helperPath, args, { cwd });
  } catch (e) {
    throw new Error(String((e as { stderr?: string }).stderr ?? '').trim() || (e as Error).message);
  }
}
