/**
 * The helper's reason tokens (`exec ENOENT python3`, `chdir ENOTDIR /x`, `mount /proc
 * EPERM`) turned into the messages Docker prints for the same failures.
 */
import { inUserNamespace } from '../common/index.js';

const errnoText: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EINVAL: 'invalid argument',
  ENOEXEC: 'exec format error',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  E2BIG: 'argument list too long',
  ENAMETOOLONG: 'file name too long',
  EBUSY: 'device or resource busy',
  ENOMEM: 'cannot allocate memory',
  ETXTBSY: 'text file busy',
  ENODEV: 'no such device',
  ENOSYS: 'function not implemented',
  ETIMEDOUT: 'timed out',
  ECONNREFUSED: 'connection refused',
};

export interface SetupFailure {
  /** What the helper was doing: `exec`, `chdir`, `mount overlay on`, `spec` … */
  op: string;
  errno: string;
  arg: string;
}

/** Split a reason token; the errno name is the one all-caps `E…` word. */
export function parseReason(line: string): SetupFailure {
  const m = /^(.*?) (E[A-Z0-9]+) (.*)$/s.exec(line.trim());
  if (!m) return { op: 'setup', errno: 'EUNKNOWN', arg: line.trim() };
  return { op: m[1], errno: m[2], arg: m[3] };
}

export function errnoMessage(errno: string): string {
  return errnoText[errno] ?? errno;
}

// Rootless mode's usual causes; `tsbuild info` names each missing piece with its fix.
const ROOTLESS_NET = ' (rootless: /dev/net/tun must be usable by this user; see `tsbuild info`)';
const ROOTLESS_PROC = ' (rootless in a container: its /proc has masked paths; run it with --security-opt systempaths=unconfined, in Kubernetes procMount: Unmasked)';
const ROOTLESS_OVERLAY = ' (rootless: overlayfs in a user namespace needs Linux 5.11 or later, and tsbuild has no copy-based fallback yet; see `tsbuild info`)';

/** Docker's wording: `exec: "python3": executable file not found in $PATH` and friends. */
export function setupMessage(f: SetupFailure): string {
  const text = errnoMessage(f.errno);
  switch (f.op) {
    case 'exec':
      if (f.errno === 'ENOENT')
        return f.arg.includes('/')
          ? `exec: "${f.arg}": stat ${f.arg}: no such file or directory`
          : `exec: "${f.arg}": executable file not found in $PATH`;
      return `exec: "${f.arg}": ${text}`;
    case 'chdir':
      return `chdir to cwd ("${f.arg}") set in config.json failed: ${text}`;
    case 'publish':
      return f.errno === 'EADDRINUSE'
        ? `driver failed programming external connectivity: Bind for ${f.arg} failed: port is already allocated`
        : `publish ${f.arg}: ${text}`;
    case 'network':
      return f.errno === 'ECHILD'
        ? `the private network could not be set up: ${f.arg} exited before configuring it${inUserNamespace ? ROOTLESS_NET : ''}`
        : `the private network could not be set up: ${f.arg}: ${text}`;
    case 'mount':
      // In a user namespace the kernel mounts a /proc only where a fully visible one is.
      return f.arg === '/proc' && f.errno === 'EPERM' && inUserNamespace
        ? `container setup: mount /proc: ${text}${ROOTLESS_PROC}`
        : `container setup: mount ${f.arg}: ${text}`;
    case 'mount overlay on':
      return `container setup: mount overlay on ${f.arg}: ${text}${inUserNamespace ? ROOTLESS_OVERLAY : ''}`;
    default:
      return `container setup: ${f.op} ${f.arg}: ${text}`;
  }
}
