/**
 * `docker top`: a running container's processes, in the columns of `ps -ef` that Docker
 * shows by default (UID PID PPID C STIME TTY TIME CMD), host pids as Docker gives them.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../common/index.js';
import { isHelperAlive } from '../store/index.js';
import { findContainer } from './containers.js';
import type { CallOptions } from './images.js';
import { openStoreOf } from './store-option.js';
import { settingsFromEnv } from './settings.js';

export interface TopResult {
  titles: string[];
  processes: string[][];
}

const TICKS = 100; // USER_HZ on Linux

function userNames(): Map<number, string> {
  const names = new Map<number, string>();
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 2) names.set(Number(f[2]), f[0]);
    }
  } catch {
    // numbers then
  }
  return names;
}

function ttyName(nr: number): string {
  if (nr === 0) return '?';
  const major = (nr >> 8) & 0xfff;
  const minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
  return major === 136 ? `pts/${minor}` : `${major}:${minor}`;
}

const two = (n: number) => String(n).padStart(2, '0');

export async function containerTop(o: CallOptions & { container: string }): Promise<TopResult> {
  const store = await openStoreOf(o.store, o.settings ?? settingsFromEnv(process.env));
  const c = await findContainer(store, o.container);
  const ex = await import('../executor/index.js');
  const init = c.status.state === 'running' && isHelperAlive(c) ? ex.containerInit(c.pid!) : undefined;
  if (init === undefined) throw new UserError('not-running', `container ${c.id} is not running`, { where: o.container });
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const bootMs = Date.now() - uptime * 1000;
  const names = userNames();
  const processes = ex.containerProcesses(init).map((p) => {
    const ranSeconds = Math.max(uptime - p.startTicks / TICKS, 0.01);
    const cpu = Math.floor((p.cpuTicks / TICKS / ranSeconds) * 100);
    const started = new Date(bootMs + (p.startTicks / TICKS) * 1000);
    const t = Math.floor(p.cpuTicks / TICKS);
    return [
      names.get(p.uid) ?? String(p.uid),
      String(p.pid),
      String(p.ppid),
      String(cpu),
      `${two(started.getHours())}:${two(started.getMinutes())}`,
      ttyName(p.tty),
      `${two(Math.floor(t / 3600))}:${two(Math.floor(t / 60) % 60)}:${two(t % 60)}`,
      p.argv.length > 0 ? p.argv.join(' ') : `[${p.comm}]`,
    ];
  });
  return { titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], processes };
}
