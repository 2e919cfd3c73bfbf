/**
 * One more process in a running container (`tsbuild exec`): the helper's `--enter` joins
 * the namespaces and cgroup of the container's pid 1 and runs the command there with the
 * same restrictions (runtime-helper/enter.c).
 */
import type { ContainerIo, ContainerResult } from './container.js';
import { spawnHelper } from './container.js';

export interface EnterSpec {
  /** The container's pid 1, as the host sees it (containerInit). */
  init: number;
  argv: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; groups: number[] };
  tty: boolean;
  /** The container's cgroup dirs (its limits), joined first. */
  cgroups?: string[];
}

export function enterContainer(spec: EnterSpec, io: ContainerIo = {}): Promise<ContainerResult> {
  const pairs: [string, string][] = [['enter', String(spec.init)]];
  for (const a of spec.argv) pairs.push(['arg', a]);
  for (const e of spec.env) pairs.push(['env', e]);
  pairs.push(['cwd', spec.cwd], ['uid', String(spec.user.uid)], ['gid', String(spec.user.gid)], ['tty', spec.tty ? '1' : '0']);
  for (const g of spec.user.groups) pairs.push(['group', String(g)]);
  for (const d of spec.cgroups ?? []) pairs.push(['cgroup', d]);
  for (const [k, v] of pairs) if (v.includes('\0')) throw new Error(`[internal] enter spec: ${k} contains a NUL byte`);
  return spawnHelper(Buffer.from(pairs.map(([k, v]) => `${k}=${v}\0`).join(''), 'utf8'), io, ['--enter']);
}
