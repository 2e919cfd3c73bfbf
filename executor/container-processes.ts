/**
 * A running container's processes as the host sees them: its pid 1 is the helper's child
 * in the helper's new pid namespace (the other child, slirp4netns, stays in the host's), and
 * its processes are those in that namespace.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function nsOf(pid: number, kind: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return undefined;
  }
}

/** The host pid of the container's pid 1 under the helper `helperPid`, or undefined when gone. */
export function containerInit(helperPid: number): number | undefined {
  const inner = nsOf(helperPid, 'pid_for_children');
  const children = (read(`/proc/${helperPid}/task/${helperPid}/children`) ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
  return children.find((c) => inner !== undefined && nsOf(c, 'pid') === inner);
}

export interface ContainerProcess {
  pid: number;
  ppid: number;
  uid: number;
  /** Clock ticks since boot (field 22 of stat) and CPU ticks used (utime + stime). */
  startTicks: number;
  cpuTicks: number;
  tty: number;
  argv: string[];
  /** The name in stat, for a process without argv (a kernel-side zombie). */
  comm: string;
}

function processOf(pid: number): ContainerProcess | undefined {
  const stat = read(`/proc/${pid}/stat`);
  const status = read(`/proc/${pid}/status`);
  if (!stat || !status) return undefined;
  const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  const argv = (read(`/proc/${pid}/cmdline`) ?? '').split('\0');
  if (argv.at(-1) === '') argv.pop();
  return { pid, ppid: Number(f[1]), uid, tty: Number(f[4]), cpuTicks: Number(f[11]) + Number(f[12]), startTicks: Number(f[19]), argv, comm };
}

/** Every process in the pid namespace of `init`, in pid order. */
export function containerProcesses(init: number): ContainerProcess[] {
  const ns = nsOf(init, 'pid');
  if (ns === undefined) return [];
  const out: ContainerProcess[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (nsOf(pid, 'pid') !== ns) continue;
    const p = processOf(pid);
    if (p) out.push(p);
  }
  return out.sort((a, b) => a.pid - b.pid);
}
