/**
 * What `run` derives from an image config and the user's flags, by Docker's rules:
 * ENTRYPOINT + CMD combination, the environment (image Env, then -e, with Docker's PATH,
 * HOSTNAME, HOME and TERM defaults), and the working dir.
 */
import type { ContainerConfig } from '../store/index.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Docker: `--entrypoint X` replaces the image's ENTRYPOINT and drops its CMD (`--entrypoint ""`
 * clears it); command-line args replace CMD. The process is ENTRYPOINT ++ CMD.
 */
export function containerArgv(config: ContainerConfig, flags: { entrypoint?: string; args: string[] }): string[] {
  let entrypoint = config.Entrypoint ?? [];
  let cmd = config.Cmd ?? [];
  if (flags.entrypoint !== undefined) {
    entrypoint = flags.entrypoint === '' ? [] : [flags.entrypoint];
    cmd = [];
  }
  if (flags.args.length > 0) cmd = flags.args;
  return [...entrypoint, ...cmd];
}

function keyOf(entry: string): string {
  const i = entry.indexOf('=');
  return i < 0 ? entry : entry.slice(0, i);
}

/** `-e K=V` as given; `-e K` takes K from tsbuild's environment, or is dropped when unset. */
export function expandEnvFlags(values: string[], hostEnv: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (v.includes('=')) out.push(v);
    else if (hostEnv[v] !== undefined) out.push(`${v}=${hostEnv[v]}`);
  }
  return out;
}

/** Lines of an --env-file: `K=V`, or `K` from the environment; blank lines and # comments skipped. */
export function parseEnvFile(text: string, hostEnv: NodeJS.ProcessEnv): string[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  return expandEnvFlags(lines.map((l) => l.replace(/^\s+/, '')), hostEnv);
}

/**
 * The process environment: PATH (Docker's default unless set), HOSTNAME, TERM=xterm with a
 * tty, the image's Env, then the user's -e (later wins, order of first appearance kept),
 * HOME from the user's passwd entry unless set.
 */
export function containerEnv(
  imageEnv: string[] | undefined,
  userEnv: string[],
  opts: { hostname: string; tty: boolean; home: string },
): string[] {
  const merged = new Map<string, string>();
  const put = (entry: string) => merged.set(keyOf(entry), entry);
  put(`PATH=${DEFAULT_PATH}`);
  put(`HOSTNAME=${opts.hostname}`);
  if (opts.tty) put('TERM=xterm');
  for (const e of imageEnv ?? []) put(e);
  for (const e of userEnv) put(e);
  if (!merged.has('HOME')) put(`HOME=${opts.home}`);
  return [...merged.values()];
}

/** The user's home from passwd text (Docker's HOME default), `/` when unknown, `/root` for uid 0. */
export function homeOf(passwd: string | undefined, uid: number): string {
  for (const line of (passwd ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length >= 6 && f[2] === String(uid) && f[5]) return f[5];
  }
  return uid === 0 ? '/root' : '/';
}
