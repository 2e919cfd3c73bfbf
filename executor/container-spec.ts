/**
 * The helper's spec: a ContainerSpec encoded as the NUL-separated key=value pairs the C
 * helper reads on fd 3 (runtime-helper/spec.c lists the keys).
 */
import { unreachable } from '../common/index.js';
import type { ContainerSpec } from './container.js';
import { withoutRepeatedLowers } from './overlay-lowers.js';

/** One file bound into the container only when the image has (or the stub provides) it. */
export interface EtcBind {
  source: string;
  target: string;
}

function checkValue(key: string, value: string): string {
  if (value.includes('\0')) throw new Error(`[internal] container spec: ${key} contains a NUL byte`);
  return value;
}

function checkPath(key: string, value: string): string {
  checkValue(key, value);
  if (value.includes('\t')) throw new Error(`[internal] container spec: ${key} contains a tab: ${value}`);
  return value;
}

/** Encode the spec for fd 3, with the etc files to bind where the image has them. */
export function encodeSpec(spec: ContainerSpec, etc: EtcBind[]): Buffer {
  const pairs: [string, string][] = [];
  const rootfs = spec.rootfs;
  switch (rootfs.kind) {
    case 'overlay':
      pairs.push(['rootfs', 'overlay']);
      for (const d of withoutRepeatedLowers(rootfs.lowerDirs)) pairs.push(['lower', d]);
      if (rootfs.upperDir !== undefined) {
        if (rootfs.workDir === undefined) throw new Error('[internal] container spec: upperDir without workDir');
        pairs.push(['upper', rootfs.upperDir], ['work', rootfs.workDir]);
      }
      break;
    case 'dir':
      pairs.push(['rootfs', 'dir'], ['dir', rootfs.path]);
      break;
    default:
      unreachable(rootfs);
  }
  pairs.push(['mount_point', spec.mountPoint]);
  for (const a of spec.argv) pairs.push(['arg', a]);
  for (const e of spec.env) pairs.push(['env', e]);
  pairs.push(['cwd', spec.cwd || '/']);
  pairs.push(['uid', String(spec.user.uid)], ['gid', String(spec.user.gid)]);
  for (const g of spec.user.groups) pairs.push(['group', String(g)]);
  pairs.push(['hostname', spec.hostname], ['network', spec.network], ['tty', spec.tty ? '1' : '0']);
  if (spec.network === 'private') {
    if (!spec.netns && !spec.nat) throw new Error('[internal] a private network needs netns or nat');
    pairs.push(spec.netns ? ['netns', spec.netns] : ['slirp', spec.nat!]);
  }
  if (spec.security === 'insecure') pairs.push(['security', 'insecure']);
  if (spec.seccomp === 'unconfined') pairs.push(['seccomp', 'unconfined']);
  if (spec.systemPaths === 'unconfined') pairs.push(['system_paths', 'unconfined']);
  if (spec.noNewPrivileges === false) pairs.push(['no_new_privs', '0']);
  for (const d of spec.devices ?? []) pairs.push(['device', `${checkPath('device', d.source)}\t${checkPath('device', d.target)}`]);
  for (const b of spec.binds ?? [])
    pairs.push([b.readonly ? 'bind_ro' : 'bind', `${checkPath('bind', b.source)}\t${checkPath('bind', b.target)}`]);
  for (const t of spec.tmpfs ?? []) pairs.push(['tmpfs', `${t.sizeBytes ?? 0}\t${checkPath('tmpfs', t.target)}`]);
  for (const b of etc) pairs.push(['bind_etc', `${checkPath('bind', b.source)}\t${checkPath('bind', b.target)}`]);
  for (const p of spec.removeOnExit ?? []) pairs.push(['remove', p]);
  if (spec.statusFile !== undefined) pairs.push(['status_file', spec.statusFile]);
  for (const c of spec.cgroups ?? []) pairs.push(['cgroup', checkPath('cgroup', c)]);
  if (spec.deviceFilter) {
    pairs.push(['device_filter', checkPath('device_filter', spec.deviceFilter.dir)]);
    for (const r of spec.deviceFilter.rules) pairs.push(['device_rule', r]);
  }
  if (spec.readOnly) pairs.push(['read_only', '1']);
  if (spec.capabilities !== undefined) pairs.push(['caps', spec.capabilities.toString(16)]);
  if (spec.publish && spec.publish.ports.length > 0) {
    if (spec.network !== 'private' || spec.netns) throw new Error('[internal] publish needs a private network of its own');
    pairs.push(['slirp_api', checkPath('slirp_api', spec.publish.api)]);
    for (const p of spec.publish.ports)
      pairs.push(['publish', `${p.proto}\t${checkPath('publish', p.hostIp)}\t${p.hostPort}\t${p.containerPort}${p.optional ? '\toptional' : ''}`]);
  }
  if (spec.log) pairs.push(['log', spec.log.file], ['log_max', String(spec.log.maxBytes ?? 0)]);
  if (spec.log?.tee) pairs.push(['log_tee', '1']);
  if (spec.dieWithParent) pairs.push(['parent', String(process.pid)]);
  if (spec.endWithParent) pairs.push(['owner', String(process.pid)]);
  if (spec.tree) pairs.push(['tree', `${checkPath('tree', spec.tree.dir)}\t${checkPath('tree', spec.tree.out)}`]);
  return Buffer.from(pairs.map(([k, v]) => `${k}=${checkValue(k, v)}\0`).join(''), 'utf8');
}
