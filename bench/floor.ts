/**
 * The physical floor of an apt/npm workload: the same commands in a plain chroot of the
 * Debian fixture's root filesystem (mmdebstrap's tar, as fixtures/debian/make.sh caches it),
 * on the host network, in a private mount namespace with /proc and /dev bound in. Only the
 * commands are timed; unpacking the root filesystem and copying the context in are not.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { must } from './peers.js';

export function debianRootfsTar(): string {
  const cache = process.env.TSBUILD_FIXTURE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tsbuild-fixtures');
  const tar = join(cache, 'debian-bookworm-minbase.tar');
  if (!existsSync(tar)) throw new Error(`bench: ${tar} is missing (fixtures/debian/make.sh makes it)`);
  return tar;
}

/** Wall time (ms) of `commands` in a fresh chroot holding the context `dir` at /ctx. */
export function chrootFloorMs(work: string, dir: string, commands: string): number {
  const root = join(work, 'floor-root');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root);
  must(['tar', '-xf', debianRootfsTar(), '-C', root]);
  must(['cp', '-a', `${dir}/.`, join(root, 'ctx')]);
  must(['cp', '/etc/resolv.conf', join(root, 'etc', 'resolv.conf')]);
  const script =
    `mount --rbind /dev ${root}/dev && mount -t proc proc ${root}/proc && ` +
    `exec chroot ${root} /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DEBIAN_FRONTEND=noninteractive sh -c '${commands}'`;
  const t0 = process.hrtime.bigint();
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`bench: the chroot floor failed (${r.status}):\n${r.stderr.slice(-3000)}`);
  rmSync(root, { recursive: true, force: true });
  return ms;
}
