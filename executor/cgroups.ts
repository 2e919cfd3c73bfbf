/**
 * Cgroups for `run --memory/--pids-limit/--cpus`: find the controllers this host offers
 * (cgroup v1 hierarchies, or the v2 unified one), make one dir per container with the
 * limits written, hand the dirs to the helper (its pid 1 joins them before anything else
 * runs) and remove them afterwards. A limit asked for where no controller can enforce it
 * is a UserError naming the flag, never a silent ignore.
 *
 * v1: `<hierarchy>/<tsbuild's own cgroup>/tsbuild/<id>` — nested under our own cgroup so a
 * container never escapes the limits tsbuild itself runs under. v2: `<unified>/tsbuild/<id>`
 * (the root is the only v2 cgroup that may hold processes and delegate controllers).
 */
import { readFileSync } from 'node:fs';
import { mkdir, readdir, rmdir, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { UserError, inUserNamespace, unreachable } from '../common/index.js';
import type { ResourceLimits } from './cgroups-limits.js';

export type Controller = 'memory' | 'pids' | 'cpu' | 'devices';

export interface CgroupLayout {
  /** v1: controller → the dir of tsbuild's own cgroup in that controller's hierarchy */
  v1: Partial<Record<Controller, string>>;
  /** v2: the unified mount and the controllers its root offers */
  v2?: { mount: string; controllers: Controller[] };
}

export interface ContainerCgroup {
  /** The dirs the container's pid 1 joins (ContainerSpec.cgroups). */
  dirs: string[];
  /** cgroup v2: the device allow-list, for the helper to attach as eBPF (ContainerSpec.deviceFilter). */
  deviceFilter?: { dir: string; rules: string[] };
  /** Remove the dirs (already empty once the container ended); idempotent. */
  remove(): Promise<void>;
}

const FLAGS: Record<Controller, string> = { memory: '--memory', pids: '--pids-limit', cpu: '--cpus', devices: '--device' };
const CONTROLLERS: Controller[] = ['memory', 'pids', 'cpu', 'devices'];
const CFS_PERIOD_US = 100_000;
/** Leftover dirs (a killed tsbuild, a `run -d` whose helper died) older than this are swept. */
const STALE_MS = 60_000;

export const cgroupMessages = {
  'no-controller': (flag: string, controller: Controller, why: string) =>
    `${flag}: no ${controller} cgroup controller is available here (${why})`,
  'cgroup-setup': (flag: string, path: string, err: string) => `${flag}: cannot set up the cgroup ${path}: ${err}`,
} satisfies Record<string, (...args: never[]) => string>;

const unescapeMount = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Read the layout from /proc/self/mountinfo and /proc/self/cgroup (texts injectable for tests). */
export function parseCgroupLayout(mountinfo: string, selfCgroup: string, v2Controllers?: (mount: string) => string): CgroupLayout {
  const own = new Map<string, string>(); // controller (or '' for v2) → own path
  for (const line of selfCgroup.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '') own.set('', m[2]);
    else for (const c of m[1].split(',')) own.set(c, m[2]);
  }
  const layout: CgroupLayout = { v1: {} };
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!post) continue;
    const f = pre.split(' ');
    const [fstype, , superOpts = ''] = post.split(' ');
    const root = unescapeMount(f[3] ?? '/');
    const mount = unescapeMount(f[4] ?? '');
    if (fstype === 'cgroup') {
      for (const c of CONTROLLERS) {
        if (!superOpts.split(',').includes(c) || layout.v1[c] !== undefined) continue;
        const path = own.get(c);
        if (path === undefined) continue;
        const rel = relative(root, path);
        layout.v1[c] = rel.startsWith('..') ? mount : join(mount, rel);
      }
    } else if (fstype === 'cgroup2' && layout.v2 === undefined && root === '/') {
      let offered = '';
      try {
        offered = (v2Controllers ?? ((d) => readFileSync(join(d, 'cgroup.controllers'), 'utf8')))(mount);
      } catch {
        // no cgroup.controllers: nothing offered
      }
      const names = offered.trim().split(/\s+/);
      layout.v2 = { mount, controllers: CONTROLLERS.filter((c) => names.includes(c)) };
    }
  }
  return layout;
}

let discovered: CgroupLayout | undefined;

/** This process's layout, read once (a RUN step makes a device cgroup each time). */
export function discoverCgroups(): CgroupLayout {
  discovered ??= parseCgroupLayout(readFileSync('/proc/self/mountinfo', 'utf8'), readFileSync('/proc/self/cgroup', 'utf8'));
  return discovered;
}

function needed(limits: ResourceLimits): Controller[] {
  const out: Controller[] = [];
  if (limits.memoryBytes !== undefined) out.push('memory');
  if (limits.pidsLimit !== undefined) out.push('pids');
  if (limits.cpus !== undefined) out.push('cpu');
  if (limits.deviceRules !== undefined) out.push('devices');
  return out;
}

function whyMissing(c: Controller, layout: CgroupLayout): string {
  const v2 = layout.v2 ? `cgroup v2 at ${layout.v2.mount} offers ${layout.v2.controllers.join(' ') || 'none of memory, pids, cpu'}` : 'no cgroup v2 mount';
  return `no cgroup v1 hierarchy has "${c}"; ${v2}`;
}

/** The files and values one controller's limit is written as. */
function limitFiles(c: Controller, limits: ResourceLimits, v2: boolean): [string, string][] {
  switch (c) {
    case 'memory':
      return [[v2 ? 'memory.max' : 'memory.limit_in_bytes', String(limits.memoryBytes)]];
    case 'pids':
      return [['pids.max', String(limits.pidsLimit)]];
    case 'devices': // v1: a child starts with its parent's list, so deny all, then allow; v2: eBPF, by the helper
      return v2 ? [] : [['devices.deny', 'a'], ...(limits.deviceRules ?? []).map((r): [string, string] => ['devices.allow', r])];
    case 'cpu': {
      const quota = Math.max(1000, Math.round((limits.cpus ?? 0) * CFS_PERIOD_US));
      return v2 ? [['cpu.max', `${quota} ${CFS_PERIOD_US}`]] : [['cpu.cfs_period_us', String(CFS_PERIOD_US)], ['cpu.cfs_quota_us', String(quota)]];
    }
    default:
      return unreachable(c);
  }
}

function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code} ${err.message}` : String(e);
}

async function removeDir(dir: string): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      await rmdir(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || tries >= 40) throw e;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** Remove dirs under `parent` left by earlier runs: empty ones (rmdir fails on a live one) that are old. */
async function sweep(parent: string): Promise<void> {
  const names = await readdir(parent).catch(() => [] as string[]);
  const now = Date.now();
  for (const n of names) {
    const d = join(parent, n);
    const st = await stat(d).catch(() => undefined);
    if (!st?.isDirectory() || now - st.mtimeMs < STALE_MS) continue;
    await rmdir(d).catch(() => undefined);
  }
}

/**
 * Make the cgroup dirs of container `id` with `limits` written; undefined when no limit is
 * asked for. Throws a UserError (exit 125) naming the flag when a controller is missing.
 */
export async function createCgroup(id: string, limits: ResourceLimits, layout: CgroupLayout = discoverCgroups()): Promise<ContainerCgroup | undefined> {
  const wanted = needed(limits);
  if (wanted.length === 0) return undefined;
  if (!/^[A-Za-z0-9_.-]+$/.test(id)) throw new Error(`[internal] bad cgroup name ${id}`);
  // Decide everything before touching the filesystem.
  const plan = new Map<string, { v2: boolean; controllers: Controller[] }>();
  for (const c of wanted) {
    const base = layout.v1[c];
    // v2 has no devices controller: its filter is an eBPF program on any v2 cgroup dir.
    const v2 = base === undefined && (c === 'devices' ? layout.v2 !== undefined : layout.v2?.controllers.includes(c));
    // Neither (no cgroup fs at all): the nodev mounts are the device filter. In a user
    // namespace (rootless) the kernel itself refuses mknod and opening nodes of its mounts.
    if (c === 'devices' && ((base === undefined && !v2) || inUserNamespace)) continue;
    if (base === undefined && !v2) {
      throw new UserError('no-cgroup', cgroupMessages['no-controller'](FLAGS[c], c, whyMissing(c, layout)), {
        where: FLAGS[c],
        exitCode: 125,
        hint: 'mount the controller (cgroup v1) or enable it in cgroup v2, or run without the flag',
      });
    }
    const parent = base !== undefined ? join(base, 'tsbuild') : join(layout.v2!.mount, 'tsbuild');
    const entry = plan.get(parent) ?? { v2: !!v2, controllers: [] };
    entry.controllers.push(c);
    plan.set(parent, entry);
  }
  if (plan.size === 0) return undefined;
  const made: string[] = [];
  const cgroup: ContainerCgroup = {
    dirs: made,
    async remove() {
      for (const d of made) await removeDir(d);
    },
  };
  try {
    for (const [parent, { v2, controllers }] of plan) {
      const flag = FLAGS[controllers[0]];
      const dir = join(parent, id);
      try {
        const enable = controllers.filter((c) => c !== 'devices').map((c) => `+${c}`).join(' ');
        if (v2 && enable) {
          await writeFile(join(layout.v2!.mount, 'cgroup.subtree_control'), enable);
          await mkdir(parent, { recursive: true });
          await writeFile(join(parent, 'cgroup.subtree_control'), enable);
        } else await mkdir(parent, { recursive: true });
        await sweep(parent);
        await mkdir(dir);
        made.push(dir);
        if (v2 && controllers.includes('devices')) cgroup.deviceFilter = { dir, rules: limits.deviceRules ?? [] };
        for (const c of controllers) for (const [file, value] of limitFiles(c, limits, v2)) await writeFile(join(dir, file), value);
      } catch (e) {
        throw new UserError('cgroup-setup', cgroupMessages['cgroup-setup'](flag, dir, errText(e)), { where: dir, exitCode: 125 });
      }
    }
  } catch (e) {
    await cgroup.remove().catch(() => undefined);
    throw e;
  }
  return cgroup;
}
