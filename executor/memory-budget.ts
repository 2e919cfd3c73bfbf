/**
 * How much memory tsbuild's tmpfs mounts (RUN upper dirs, a build's layer dirs) may take.
 * tmpfs pages are charged to the memory cgroup of the process that writes them and cannot
 * be reclaimed, so a tmpfs sized from the host's free memory gets a build OOM-killed in a CI
 * pod whose limit is lower. The rule (README "Where a build's scratch data lives"):
 *   - under a cgroup memory limit (the lowest on the way to the hierarchy's root, v1 or v2),
 *     all tmpfs mounts of one tsbuild process together get at most half of that limit, and
 *     each at most half of what the cgroup has left (limit − usage + inactive file pages,
 *     which the kernel reclaims first);
 *   - each at most half of the host's available memory, and at most 8 GiB.
 * The sizes are reserved when a tmpfs is mounted and given back when it is unmounted, so
 * parallel steps cannot each take the whole share.
 */
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { dirname, join } from 'node:path';
import { discoverCgroups } from './cgroups.js';

/** No tmpfs is larger than this. */
export const MAX_TMPFS_BYTES = 8 * 1024 ** 3;
/** Under a cgroup limit the tmpfs mounts of one process together take at most this share of it. */
export const CGROUP_SHARE = 1 / 2;

/** A cgroup's memory figures: its limit and what it uses that cannot be reclaimed at once. */
export interface CgroupMemory {
  limitBytes: number;
  /** usage minus inactive file pages (kubelet's "working set"). */
  workingSetBytes: number;
}

export interface MemoryFacts {
  /** The binding cgroup limit (undefined: none, or no memory controller). */
  cgroup?: CgroupMemory;
  /** The host's MemAvailable. */
  hostAvailableBytes: number;
}

/** Limits at or above this are "unlimited" (v1 writes PAGE_COUNTER_MAX pages, ~2^63). */
const UNLIMITED = 2 ** 60;

type ReadFile = (path: string) => string | undefined;

const readText: ReadFile = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

function statField(stat: string | undefined, name: string): number {
  const m = stat === undefined ? null : new RegExp(`^${name} (\\d+)$`, 'm').exec(stat);
  return m ? Number(m[1]) : 0;
}

/** One cgroup dir's figures (v1 or v2 file names); undefined when it sets no limit. */
function readLevel(dir: string, v2: boolean, read: ReadFile): CgroupMemory | undefined {
  const limitText = read(join(dir, v2 ? 'memory.max' : 'memory.limit_in_bytes'))?.trim();
  if (limitText === undefined || limitText === 'max') return undefined;
  const limitBytes = Number(limitText);
  if (!Number.isFinite(limitBytes) || limitBytes >= UNLIMITED) return undefined;
  const usage = Number(read(join(dir, v2 ? 'memory.current' : 'memory.usage_in_bytes'))?.trim() ?? 0) || 0;
  const inactive = statField(read(join(dir, 'memory.stat')), v2 ? 'inactive_file' : 'total_inactive_file');
  return { limitBytes, workingSetBytes: Math.max(0, usage - inactive) };
}

/**
 * The binding memory limit of the cgroup `dir` (under the hierarchy mounted at `mount`):
 * every level up to the mount is read, and the one with the least room left wins.
 */
export function cgroupMemoryAt(dir: string, mount: string, v2: boolean, read: ReadFile = readText): CgroupMemory | undefined {
  let binding: CgroupMemory | undefined;
  for (let d = dir; ; d = dirname(d)) {
    const level = readLevel(d, v2, read);
    if (level && (!binding || level.limitBytes - level.workingSetBytes < binding.limitBytes - binding.workingSetBytes)) binding = level;
    if (d === mount || !d.startsWith(mount + '/')) break;
  }
  return binding;
}

/** This process's binding cgroup memory limit, v1 `memory` or v2; undefined when there is none. */
export function processCgroupMemory(read: ReadFile = readText): CgroupMemory | undefined {
  const layout = discoverCgroups();
  const v1 = layout.v1.memory;
  if (v1 !== undefined) {
    const mount = mountOf(v1, read);
    return cgroupMemoryAt(v1, mount ?? v1, false, read);
  }
  if (layout.v2 === undefined) return undefined;
  const own = /^0::(\/.*)$/m.exec(read('/proc/self/cgroup') ?? '')?.[1];
  if (own === undefined) return undefined;
  return cgroupMemoryAt(join(layout.v2.mount, own), layout.v2.mount, true, read);
}

/** The mount point of the v1 memory hierarchy holding `dir` (from /proc/self/mountinfo). */
function mountOf(dir: string, read: ReadFile): string | undefined {
  let best: string | undefined;
  for (const line of (read('/proc/self/mountinfo') ?? '').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!post?.startsWith('cgroup ') || !post.split(' ')[2]?.split(',').includes('memory')) continue;
    const point = pre.split(' ')[4];
    if (point && (dir === point || dir.startsWith(point + '/')) && (!best || point.length > best.length)) best = point;
  }
  return best;
}

/** MemAvailable from /proc/meminfo (free memory plus what the kernel can reclaim). */
export function hostAvailableBytes(read: ReadFile = readText): number {
  const m = /^MemAvailable:\s+(\d+) kB$/m.exec(read('/proc/meminfo') ?? '');
  return m ? Number(m[1]) * 1024 : freemem();
}

/** This process's cgroup limit (if any) and the host's available memory, read now. */
export function readMemoryFacts(): MemoryFacts {
  return { cgroup: processCgroupMemory(), hostAvailableBytes: hostAvailableBytes() };
}

/** The most one more tmpfs may be given now, by the rule above, with `reservedBytes` already out. */
export function tmpfsRoom(facts: MemoryFacts, reservedBytes: number): number {
  let room = Math.min(MAX_TMPFS_BYTES, facts.hostAvailableBytes / 2);
  if (facts.cgroup) {
    const { limitBytes, workingSetBytes } = facts.cgroup;
    room = Math.min(room, limitBytes * CGROUP_SHARE - reservedBytes, (limitBytes - workingSetBytes) / 2);
  }
  return Math.max(0, Math.floor(room));
}

export interface Reservation {
  readonly sizeBytes: number;
  /** Give the size back (the tmpfs is unmounted); idempotent. */
  release(): void;
}

/** The sizes of this process's mounted tmpfs, counted against the rule. */
class MemoryBudget {
  private reservedBytes = 0;

  constructor(private readonly facts: () => MemoryFacts) {}

  /** What one more tmpfs may be given now. */
  room(): number {
    return tmpfsRoom(this.facts(), this.reservedBytes);
  }

  /** Reserve `sizeBytes` (which the caller took from `room()`). */
  reserve(sizeBytes: number): Reservation {
    this.reservedBytes += sizeBytes;
    let held = true;
    return {
      sizeBytes,
      release: () => {
        if (!held) return;
        held = false;
        this.reservedBytes -= sizeBytes;
      },
    };
  }
}

/** One budget per process: the rule counts every tmpfs this process has mounted. */
export const tmpfsBudget = new MemoryBudget(readMemoryFacts);
