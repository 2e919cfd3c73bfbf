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
