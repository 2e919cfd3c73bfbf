/**
 * `docker exec`: one more command in a running container — its namespaces, cgroup and
 * restrictions (executor/container-enter.ts) — with the container's environment, user and
 * working dir unless told otherwise, and a pty of the container's own with `tty`.
 */
import type { Readable } from 'node:stream';
import { UserError } from '../common/index.js';
import { isHelperAlive } from '../store/index.js';
import { findContainer } from './containers.js';
import type { CallOptions } from './images.js';
import { openStoreOf } from './store-option.js';
import { settingsFromEnv } from './settings.js';

export interface ExecOptions extends CallOptions {
  container: string;
  command: string[];
  /** `K=V` over the container's environment. */
  env?: string[];
  workdir?: string;
  user?: string;
  tty?: boolean;
  interactive?: boolean;
  stdout?: 'inherit' | 'ignore' | ((chunk: Uint8Array) => void);
  stderr?: 'inherit' | 'ignore' | ((chunk: Uint8Array) => void);
  stdin?: 'inherit' | Readable | Uint8Array | string;
  forwardSignals?: boolean;
  signal?: AbortSignal;
}

export const execMessages = {
  'not-running': (id: string) => `container ${id} is not running`,
  'no-command': () => 'exec needs a command to run',
  'relative-workdir': (dir: string) => `the working directory '${dir}' is invalid, it needs to be an absolute path`,
} satisfies Record<string, (...args: never[]) => string>;

function withEnv(base: string[], over: string[]): string[] {
  const out = new Map(base.map((e) => [e.split('=', 1)[0], e]));
  for (const e of over) out.set(e.split('=', 1)[0], e);
  return [...out.values()];
}

/** The command's exit code (126/127 and Docker's message when it could not start). */
export async function execInContainer(o: ExecOptions): Promise<number> {
  if (o.command.length === 0) throw new UserError('no-command', execMessages['no-command'](), { exitCode: 2 });
  if (o.workdir !== undefined && !o.workdir.startsWith('/')) throw new UserError('relative-workdir', execMessages['relative-workdir'](o.workdir));
  const store = await openStoreOf(o.store, o.settings ?? settingsFromEnv(process.env));
  const c = await findContainer(store, o.container);
  const ex = await import('../executor/index.js');
  const init = c.status.state === 'running' && isHelperAlive(c) ? ex.containerInit(c.pid!) : undefined;
  if (init === undefined) throw new UserError('not-running', execMessages['not-running'](c.id), { where: o.container });
  const p = c.process ?? { env: [], cwd: '/', userSpec: '', user: { uid: 0, gid: 0, groups: [] }, tty: false, interactive: false, hostname: '' };
  // The container's own /etc/passwd, seen through its pid 1's root.
  const user = o.user !== undefined ? await ex.resolveUser(o.user, `/proc/${init}/root`) : p.user;
  const tty = o.tty === true;
  const env = withEnv(p.env, [...(tty && !p.env.some((e) => e.startsWith('TERM=')) ? ['TERM=xterm'] : []), ...(o.env ?? [])]);
  const interactive = o.interactive === true;
  const input = o.stdin ?? 'inherit';
  const out = (which: 'stdout' | 'stderr', v: ExecOptions['stdout']) =>
    typeof v === 'function' ? { [which === 'stdout' ? 'onStdout' : 'onStderr']: v } : { [which]: v ?? 'inherit' };
  const result = await ex.enterContainer(
    { init, argv: o.command, env, cwd: o.workdir ?? p.cwd, user, tty, cgroups: c.cgroups },
    {
      stdin: !interactive ? 'ignore' : input === 'inherit' ? 'inherit' : 'pipe',
      ...(interactive && input !== 'inherit' ? { input } : {}),
      ...out('stdout', o.stdout),
      ...out('stderr', o.stderr),
      forwardSignals: o.forwardSignals === true,
      signal: o.signal,
    },
  );
  if (result.kind === 'setup-failed') throw new UserError('exec-start', result.message, { exitCode: result.code, where: o.container });
  return result.kind === 'exited' ? result.code : 128 + result.signal;
}
