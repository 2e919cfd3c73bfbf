/**
 * `run --cap-add/--cap-drop`: Docker's capability names (with or without CAP_, any case,
 * and ALL) on top of Docker's default set (runtime-helper/helper.h DOCKER_CAPS), as moby's
 * oci/caps.TweakCapabilities applies them: drops first unless ALL is added.
 */
import { UserError } from '../common/index.js';

// Bit numbers from linux/capability.h.
const NAMES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
];

const DOCKER_DEFAULT = 0xa80425fbn;
const ALL = (1n << BigInt(NAMES.length)) - 1n;

function bit(name: string, flag: string): bigint | 'ALL' {
  const n = name.toUpperCase().replace(/^CAP_/, '');
  if (n === 'ALL') return 'ALL';
  const i = NAMES.indexOf(n);
  if (i < 0) throw new UserError('bad-capability', `invalid ${flag}: unknown capability: "${name}"`, { where: name, exitCode: 125 });
  return 1n << BigInt(i);
}

/** The capability set as a bit mask (below 2^41: exact as a number), or undefined for Docker's default. */
export function capabilitySet(add: readonly string[], drop: readonly string[]): number | undefined {
  if (add.length === 0 && drop.length === 0) return undefined;
  let caps = DOCKER_DEFAULT;
  const adds = add.map((a) => bit(a, '--cap-add'));
  const drops = drop.map((d) => bit(d, '--cap-drop'));
  if (drops.includes('ALL')) caps = 0n;
  for (const d of drops) if (d !== 'ALL') caps &= ~d;
  if (adds.includes('ALL')) caps = ALL;
  for (const a of adds) if (a !== 'ALL') caps |= a;
  return Number(caps);
}
