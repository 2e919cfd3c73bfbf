/**
 * `run --device HOST[:CONTAINER[:PERMISSIONS]]` (Docker's flag and messages, moby
 * opts/opts.go ValidateDevice and daemon/pkg/oci/devices_linux.go DevicesFromPath): the
 * host node is bound into the container and allowed by the device filter.
 */
import { stat } from 'node:fs/promises';
import { UserError } from '../common/index.js';

export interface DeviceMapping {
  source: string;
  target: string;
  rule: { type: 'c' | 'b'; major: number; minor: number; access: string };
}

function bad(value: string, why: string): UserError {
  return new UserError('invalid-argument', `invalid argument "${value}" for "--device" flag: ${why}`, { where: '--device', exitCode: 125 });
}

/** Parse and check one `--device` value against the host's node. */
export async function parseDevice(value: string): Promise<DeviceMapping> {
  const [source, second, third, ...rest] = value.split(':');
  let target = source;
  let access = 'rwm';
  if (rest.length > 0 || !source) throw bad(value, 'bad format');
  if (third !== undefined) [target, access] = [second, third];
  else if (second !== undefined) {
    if (/^[rwm]+$/.test(second)) access = second;
    else target = second;
  }
  if (!source.startsWith('/') || !target.startsWith('/')) throw bad(value, `${!source.startsWith('/') ? source : target} is not an absolute path`);
  if (!/^[rwm]{1,3}$/.test(access)) throw bad(value, `bad mode specified: ${access}`);
  const st = await stat(source).catch(() => undefined);
  if (!st || !(st.isCharacterDevice() || st.isBlockDevice())) {
    throw new UserError(
      'not-a-device',
      `error gathering device information while adding custom device "${source}": ${st ? 'not a device node' : 'no such file or directory'}`,
      { where: source, exitCode: 125 },
    );
  }
  // Linux's dev_t: major in bits 8-19 and 32-43, minor in bits 0-7 and 12-31.
  const rdev = BigInt(st.rdev);
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { source, target, rule: { type: st.isCharacterDevice() ? 'c' : 'b', major, minor, access } };
}

/** `--security-opt`: what `run` honours, each other value a clear error. */
export function parseSecurityOpts(values: string[]): { seccomp: 'default' | 'unconfined' } {
  let seccomp: 'default' | 'unconfined' = 'default';
  for (const v of values) {
    const [key, val] = v.includes('=') ? [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)] : v.split(':');
    if (key === 'seccomp' && val === 'unconfined') seccomp = 'unconfined';
    else if (key === 'no-new-privileges' && (val === undefined || val === 'true')) continue; // always on
    else {
      throw new UserError('security-opt', `--security-opt ${v} is not supported yet`, {
        where: '--security-opt',
        exitCode: 125,
        hint: 'supported: seccomp=unconfined, no-new-privileges',
      });
    }
  }
  return { seccomp };
}
