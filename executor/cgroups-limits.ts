/**
 * Resource limits as `docker run` takes them (`--memory 64m`, `--pids-limit 20`,
 * `--cpus 0.5`), parsed with Docker's value formats and messages. Invalid values are
 * Docker's "invalid argument" errors, exit 125.
 */
import { cpus as hostCpus } from 'node:os';
import { UserError } from '../common/index.js';

export interface ResourceLimits {
  /** memory limit in bytes (`-m, --memory`) */
  memoryBytes?: number;
  /** maximum number of processes (`--pids-limit`); absent: unlimited */
  pidsLimit?: number;
  /** CPU quota in CPUs (`--cpus`), as a CFS quota over a 100 ms period */
  cpus?: number;
  /** The device filter: cgroup v1 `devices.allow` rules after denying all (deviceRules()). */
  deviceRules?: string[];
}

/**
 * Docker's device filter (runc's default allowed devices, moby daemon/oci_linux.go
 * WithDevices): mknod of anything, and read/write/mknod of null, zero, full, random,
 * urandom, tty, console, ptmx and the pty slaves; plus what `--device` passes in.
 */
export function deviceRules(extra: { type: 'c' | 'b'; major: number; minor: number; access: string }[] = []): string[] {
  return [
    'c *:* m', 'b *:* m',
    'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm',
    'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', 'c 136:* rwm',
    ...extra.map((d) => `${d.type} ${d.major}:${d.minor} ${d.access}`),
  ];
}

export const limitMessages = {
  'invalid-argument': (value: string, flag: string, why: string) => `invalid argument "${value}" for "${flag}" flag: ${why}`,
  'memory-too-small': () => 'Minimum memory limit allowed is 6MB',
  'cpus-range': (n: number) => `Range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`,
} satisfies Record<string, (...args: never[]) => string>;

const MIN_MEMORY = 6 * 1024 * 1024;

function invalid(value: string, flag: string, why: string): UserError {
  return new UserError('invalid-argument', limitMessages['invalid-argument'](value, flag, why), { where: flag, exitCode: 125 });
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Docker's RAMInBytes (go-units): `64m`, `1.5g`, `512MiB`, `100 kb`; binary units. */
export function parseMemory(value: string, flag = '-m, --memory'): number | undefined {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(value);
  if (!m) throw invalid(value, flag, `invalid size: '${value}'`);
  const bytes = Math.floor(Number(m[1]) * UNITS[(m[2] ?? '').toLowerCase()]);
  if (!Number.isFinite(bytes) || Number.isNaN(bytes)) throw invalid(value, flag, `invalid size: '${value}'`);
  if (bytes !== 0 && bytes < MIN_MEMORY) throw new UserError('memory-too-small', limitMessages['memory-too-small'](), { where: flag, exitCode: 125 });
  return bytes === 0 ? undefined : bytes; // 0: unlimited, as in Docker
}

/** `--pids-limit N`: an int64; 0 or -1 mean unlimited (undefined), as in Docker. */
export function parsePidsLimit(value: string, flag = '--pids-limit'): number | undefined {
  if (!/^[+-]?\d+$/.test(value)) throw invalid(value, flag, `strconv.ParseInt: parsing "${value}": invalid syntax`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw invalid(value, flag, `strconv.ParseInt: parsing "${value}": value out of range`);
  return n <= 0 ? undefined : n;
}

/** `--cpus 0.5`: a decimal number of CPUs, 0.01 up to the host's count; 0 means unlimited. */
export function parseCpus(value: string, flag = '--cpus', available = hostCpus().length): number | undefined {
  if (!/^\d+(\.\d+)?$|^\.\d+$/.test(value)) throw invalid(value, flag, `failed to parse ${value} as a rational number`);
  const n = Number(value);
  if (n === 0) return undefined;
  if (n < 0.01 || n > available) throw new UserError('cpus-range', limitMessages['cpus-range'](available), { where: flag, exitCode: 125 });
  return n;
}

