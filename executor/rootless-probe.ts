/**
 * What rootless mode needs, tried for real: the runtime helper enters a user namespace
 * (runtime-helper/userns-cmd.c) and mounts there an overlay with `userxattr` over scratch
 * dirs, the mount `tsbuild info` reports. The mount dies with the helper's mount namespace.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helperPath } from '../common/index.js';

export interface RootlessProbe {
  /** The user namespace and its map were made (newuidmap's ranges, or the user alone). */
  userns: 'ranges' | 'single' | 'failed';
  /** An overlay with userxattr mounted inside it. */
  overlay: boolean;
  /** The helper's own lines (its warning, or why it failed). */
  messages: string[];
}

function helper(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(helperPath, args, { encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

/**
 * Try the user namespace and an overlay in it, as this (non-root) user, with its dirs in
 * `under` (the store's temp dir, whose filesystem decides whether overlay can use it).
 */
export async function probeRootless(opts: { under?: string } = {}): Promise<RootlessProbe> {
  const dir = await mkdtemp(join(opts.under ?? tmpdir(), 'tsbuild-probe-'));
  try {
    for (const d of ['l', 'u', 'w', 'm']) await mkdir(join(dir, d));
    const map = await helper(['--userns', '/bin/sh', '-c', 'echo "$TSBUILD_USERNS"']);
    const userns = map.code !== 0 ? 'failed' : map.stdout.trim() === 'ranges' ? 'ranges' : 'single';
    const opts = `lowerdir=${join(dir, 'l')},upperdir=${join(dir, 'u')},workdir=${join(dir, 'w')},userxattr`;
    const mount = userns === 'failed' ? undefined : await helper(['--userns', helperPath, '--mount', 'overlay', 'overlay', join(dir, 'm'), opts]);
    const messages = [...map.stderr.split('\n'), ...(mount?.stderr.split('\n') ?? [])].filter((l) => l.trim() !== '');
    return { userns, overlay: mount?.code === 0, messages: [...new Set(messages)] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
