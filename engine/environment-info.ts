/**
 * `tsbuild info`: what this machine offers tsbuild and which mode it will use (root or
 * rootless; overlay), each fact one line, and every missing prerequisite one line with its
 * fix. Runs as the user typed it (outside rootless mode's user namespace), so it can say
 * what that namespace will get.
 */
import { accessSync, constants, readFileSync, readdirSync, lstatSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { inUserNamespace } from '../common/index.js';
import { chooseSnapshotter, discoverCgroups, natProgram, probeRootless } from '../executor/index.js';
import { openStore } from '../store/index.js';
import type { Settings } from './settings.js';

export interface EnvironmentInfo {
  /** `[label, value]`, in the order shown. */
  facts: [string, string][];
  /** One line each: what is missing, and the fix. */
  missing: string[];
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The first `NAME:START:COUNT` (or `UID:…`) line of /etc/subuid or /etc/subgid for this user. */
function subRange(file: string, name: string, uid: number): string | undefined {
  for (const line of (read(file) ?? '').split('\n')) {
    const [who, start, count] = line.trim().split(':');
    if ((who === name || who === String(uid)) && Number(count) > 0) return `${start}:${count}`;
  }
  return undefined;
}

function canUse(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

/** Bytes the store's files take on disk (blocks), 0 when it does not exist yet. */
function diskUsage(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const st = lstatSync(join(d, n), { throwIfNoEntry: false });
      if (!st) continue;
      total += st.blocks * 512;
      if (st.isDirectory()) walk(join(d, n));
    }
  };
  walk(dir);
  return total;
}

function binfmtHandlers(): string {
  const dir = '/proc/sys/fs/binfmt_misc';
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n !== 'register' && n !== 'status');
  } catch {
    return 'binfmt_misc not mounted';
  }
  const enabled = names.filter((n) => (read(join(dir, n)) ?? '').startsWith('enabled'));
  return enabled.length ? enabled.join(' ') : 'none';
}

function cgroupLine(): string {
  const layout = discoverCgroups();
  const v1 = Object.keys(layout.v1);
  if (layout.v2 && v1.length === 0) return `v2 (${layout.v2.controllers.join(' ') || 'no controllers'})`;
  if (v1.length) return `v1 (${v1.join(' ')})${layout.v2 ? `, v2 (${layout.v2.controllers.join(' ') || 'no controllers'})` : ''}`;
  return 'none mounted';
}

/** The `snapshots` line: which snapshotter RUN steps use, and why when it is the copy. */
function snapshotterLine(snapshotter: 'overlay' | 'copy', reason: string): string {
  if (snapshotter === 'overlay') return reason === 'TSBUILD_SNAPSHOTTER' ? 'overlayfs (TSBUILD_SNAPSHOTTER=overlay)' : 'overlayfs';
  if (reason === 'TSBUILD_SNAPSHOTTER') return 'copies of the image (TSBUILD_SNAPSHOTTER=copy)';
  return `copies of the image, slower: overlayfs cannot be mounted in the store (${reason})`;
}

export async function environmentInfo(settings: Settings): Promise<EnvironmentInfo> {
  const uid = process.getuid?.() ?? 0;
  const facts: [string, string][] = [];
  const missing: string[] = [];
  const kernel = read('/proc/sys/kernel/osrelease')?.trim() ?? 'unknown';
  const [major = 0, minor = 0] = kernel.split('.').map((n) => parseInt(n, 10));
  const rootless = uid !== 0;
  let mode = inUserNamespace ? 'root of a user namespace (an unprivileged container)' : 'root';
  let overlay = (read('/proc/filesystems') ?? '').includes('\toverlay\n') ? 'overlayfs' : 'missing';
  if (!rootless) {
    const store = await openStore(settings.root);
    const choice = await chooseSnapshotter(store, settings.runtime.snapshotter);
    overlay = snapshotterLine(choice.snapshotter, choice.reason);
  }
  if (rootless) {
    const name = userInfo().username;
    const subuid = subRange('/etc/subuid', name, uid);
    const subgid = subRange('/etc/subgid', name, uid);
    const storeTmp = join(settings.root, 'tmp');
    const probe = await probeRootless(canUse(storeTmp, constants.W_OK) ? { under: storeTmp } : {});
    mode = probe.userns === 'ranges' ? 'rootless (user namespace with subuid/subgid ranges)' : probe.userns === 'single' ? 'rootless (user namespace of one id)' : 'rootless: unavailable';
    facts.push(['user namespaces', `max ${read('/proc/sys/user/max_user_namespaces')?.trim() ?? '?'}; ${name}: subuid ${subuid ?? 'none'}, subgid ${subgid ?? 'none'}`]);
    if (!subuid) missing.push(`no subuid range for user ${name}: add \`${name}:100000:65536\` to /etc/subuid`);
    if (!subgid) missing.push(`no subgid range for user ${name}: add \`${name}:100000:65536\` to /etc/subgid`);
    if ((subuid || subgid) && !canUse('/usr/bin/newuidmap', constants.X_OK)) missing.push('newuidmap/newgidmap not found: apt-get install uidmap');
    if (probe.userns === 'failed') {
      const why = probe.messages.join('; ') || 'unknown';
      missing.push(`cannot create a user namespace (${why}): sysctl -w kernel.unprivileged_userns_clone=1 user.max_user_namespaces=15000`);
    }
    overlay = probe.overlay ? 'overlayfs in the user namespace (userxattr)' : 'copies (overlayfs cannot be mounted in the user namespace)';
    if (!probe.overlay && probe.userns !== 'failed' && settings.runtime.snapshotter !== 'copy' && (major < 5 || (major === 5 && minor < 11)))
      facts.push(['overlay', `overlayfs in a user namespace needs Linux 5.11 or later (this is ${kernel}): RUN steps copy the image instead, slower`]);
    if (settings.runtime.snapshotter !== 'auto') overlay = snapshotterLine(settings.runtime.snapshotter, 'TSBUILD_SNAPSHOTTER');
    if (probe.overlay && (major < 6 || (major === 6 && minor < 6)))
      facts.push(['upper dirs', `on disk: tmpfs keeps user.* xattrs from Linux 6.6 on (this is ${kernel})`]);
    if (!canUse('/dev/net/tun', constants.R_OK | constants.W_OK)) missing.push('/dev/net/tun is not usable by this user (the private network): chmod 0666 /dev/net/tun (udev\'s default)');
  }
  facts.unshift(['mode', mode], ['kernel', kernel]);
  facts.push(['snapshots', overlay]);
  facts.push(['cgroups', cgroupLine()]);
  try {
    facts.push(['network helper', natProgram(settings.runtime)]);
  } catch {
    facts.push(['network helper', 'missing']);
    missing.push('slirp4netns not found (the private network of RUN steps and containers): apt-get install slirp4netns');
  }
  facts.push(['binfmt handlers', binfmtHandlers()]);
  facts.push(['store', `${settings.root} (${(diskUsage(settings.root) / 1e6).toFixed(1)} MB)`]);
  return { facts, missing };
}
