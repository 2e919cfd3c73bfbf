/**
 * `run --security-opt`: Docker's values (moby daemon/daemon_unix.go parseSecurityOpt;
 * docker/cli cli/command/container/opts.go parseSecurityOpts and parseSystemPaths), each
 * one tsbuild cannot honour a clear error, never ignored.
 */
import { UserError } from '../common/index.js';

export interface SecurityOpts {
  /** `seccomp=unconfined`: no filter; else Docker's default profile. */
  seccomp: 'default' | 'unconfined';
  /** `systempaths=unconfined`: /proc and /sys without Docker's masked and read-only paths. */
  systemPaths: 'default' | 'unconfined';
  /** `no-new-privileges=false` lets setuid programs (newuidmap) gain privileges; on by default. */
  noNewPrivileges: boolean;
}

const HINT = 'supported: seccomp=unconfined, systempaths=unconfined, no-new-privileges[=true|false], apparmor=unconfined';

function unsupported(value: string, why = 'is not supported yet'): UserError {
  return new UserError('security-opt', `--security-opt ${value} ${why}`, { where: '--security-opt', exitCode: 125, hint: HINT });
}

/** Go's strconv.ParseBool, which moby reads `no-new-privileges=VALUE` with. */
function goBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

/** Parse every `--security-opt` value (`key=value`, or the old `key:value`). */
export function parseSecurityOpts(values: string[]): SecurityOpts {
  const opts: SecurityOpts = { seccomp: 'default', systemPaths: 'default', noNewPrivileges: true };
  for (const v of values) {
    const eq = v.indexOf('=');
    const sep = eq >= 0 ? eq : v.indexOf(':');
    const key = sep < 0 ? v : v.slice(0, sep);
    const val = sep < 0 ? undefined : v.slice(sep + 1);
    if (key === 'no-new-privileges') {
      const on = val === undefined ? true : goBool(val);
      if (on === undefined) throw new UserError('security-opt', `invalid --security-opt 2: "${v}"`, { where: '--security-opt', exitCode: 125, hint: HINT });
      opts.noNewPrivileges = on;
    } else if (key === 'seccomp' && val === 'unconfined') opts.seccomp = 'unconfined';
    else if (key === 'seccomp' && val !== undefined && val !== '')
      throw unsupported(v, 'is not supported yet: tsbuild applies Docker\'s default profile, or none with seccomp=unconfined');
    else if (key === 'systempaths' && val === 'unconfined') opts.systemPaths = 'unconfined';
    else if (key === 'systempaths') throw new UserError('security-opt', '--security-opt systempaths=unconfined is the only option', { where: '--security-opt', exitCode: 125 });
    // tsbuild loads no AppArmor profile: unconfined is what every container already is.
    else if (key === 'apparmor' && val === 'unconfined') continue;
    else throw unsupported(v);
  }
  return opts;
}
