import { posix } from 'node:path';
import { UserError, digestOf, hexOf, unreachable, type SourceRange } from '../common/index.js';
import { cleanPath } from '../context/index.js';
import type { RunMount } from '../parser/index.js';
import type { BaseImage } from './step.js';

/**
 * `RUN --mount` lowered for the executor: paths made absolute, defaults applied, options
 * checked (an error names the line and the option). What enters the cache key is decided
 * here too (`mountKey`): a bind's content, never a cache's, a secret's or an agent's.
 */

/** Where a bind (or a cache's seed) comes from: `name` is a `--build-context` directory. */
export type MountFrom = { kind: 'context'; name?: string } | { kind: 'stage'; stage: number } | { kind: 'image'; image: BaseImage };

export type Sharing = 'shared' | 'private' | 'locked';

export type PlannedMount =
  | { type: 'bind'; target: string; source: string; from: MountFrom; readonly: boolean }
  | {
      type: 'cache';
      target: string;
      id: string;
      readonly: boolean;
      sharing: Sharing;
      /** Seed of a new cache dir (`from=` a stage or image, `source=` inside it). */
      from?: Exclude<MountFrom, { kind: 'context' }>;
      source: string;
      mode: number;
      uid: number;
      gid: number;
      /**
       * Which cache dir in the store: `id` alone, or `id` and its base when there is one
       * (`cacheDirKey`); BuildKit keys a cache mount by both.
       */
      dirKey: string;
      /** uid/gid/mode were given: BuildKit's base is then a dir made with them. */
      hasPerms: boolean;
    }
  | { type: 'tmpfs'; target: string; sizeBytes?: number }
  | { type: 'secret'; id: string; target?: string; env?: string; required: boolean; mode: number; uid: number; gid: number }
  | { type: 'ssh'; id: string; target: string; required: boolean; mode: number; uid: number; gid: number };

/** Which options each type takes (BuildKit's runmount table). */
const ALLOWED: Record<RunMount['type'], readonly string[]> = {
  bind: ['type', 'from', 'source', 'target', 'readonly'],
  cache: ['type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'mode', 'uid', 'gid'],
  tmpfs: ['type', 'target', 'size'],
  secret: ['type', 'id', 'target', 'env', 'required', 'mode', 'uid', 'gid'],
  ssh: ['type', 'id', 'target', 'required', 'mode', 'uid', 'gid'],
};

function bad(where: SourceRange, m: RunMount, message: string): UserError {
  return new UserError('bad-mount', `--mount=${m.spec}: ${message}`, { where });
}

function absolute(path: string, cwd: string): string {
  return posix.normalize(posix.isAbsolute(path) ? path : posix.join('/', cwd, path));
}

function idNumber(m: RunMount, key: 'uid' | 'gid', where: SourceRange, dflt: number): number {
  const v = m.options[key];
  if (v === undefined) return dflt;
  if (!/^[0-9]+$/.test(v) || Number(v) > 0xfffffffe) throw bad(where, m, `invalid ${key} "${v}": want a number`);
  return Number(v);
}

function modeOf(m: RunMount, where: SourceRange, dflt: number): number {
  const v = m.options.mode;
  if (v === undefined) return dflt;
  if (!/^0?[0-7]{1,4}$/.test(v)) throw bad(where, m, `invalid mode "${v}": want octal permissions like 0644`);
  return parseInt(v, 8);
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

function sizeOf(m: RunMount, where: SourceRange): number | undefined {
  const v = m.options.size;
  if (v === undefined) return undefined;
  const match = /^([0-9]+)\s*([a-z]*)$/i.exec(v.trim());
  const unit = match ? SIZE_UNITS[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined) throw bad(where, m, `invalid size "${v}": want bytes or a size like 64m`);
  return Number(match[1]) * unit;
}

function checkTarget(m: RunMount, target: string, where: SourceRange): string {
  if (target === '/') throw bad(where, m, 'target cannot be /');
  return target;
}

export interface MountContext {
  cwd: string;
  where: SourceRange;
  /** `from=NAME`: a stage index, a named context, or an image to resolve. */
  resolveFrom(name: string): Promise<MountFrom>;
}

/** Check and lower one `--mount`. */
export async function planMount(m: RunMount, index: number, ctx: MountContext): Promise<PlannedMount> {
  const { where } = ctx;
  const allowed = ALLOWED[m.type];
  for (const key of Object.keys(m.options)) {
    if (!allowed.includes(key)) throw bad(where, m, `option "${key}" does not apply to type=${m.type}`);
  }
  const o = m.options;
  const readonly = o.readonly === 'true';
  switch (m.type) {
    case 'bind': {
      const from: MountFrom = o.from === undefined ? { kind: 'context' } : await ctx.resolveFrom(o.from);
      return {
        type: 'bind',
        target: checkTarget(m, absolute(o.target, ctx.cwd), where),
        source: posix.normalize(posix.join('/', o.source ?? '/')),
        from,
        // A bind is read-only unless `rw` (BuildKit).
        readonly: o.readonly !== 'false',
      };
    }
    case 'cache': {
      const target = checkTarget(m, absolute(o.target, ctx.cwd), where);
      const sharing = (o.sharing ?? 'shared') as Sharing;
      // BuildKit's default id is the target as written, cleaned (path.Clean: `/tmp/c/` is
      // `/tmp/c`), not made absolute (dockerfile2llb/convert_runmount.go).
      const id = o.id || cleanPath(o.target);
      const from = o.from === undefined ? undefined : await ctx.resolveFrom(o.from);
      if (from?.kind === 'context') throw bad(where, m, `a cache seeded from the build context "${o.from}" is not supported yet (from= a stage or an image)`);
      return {
        type: 'cache',
        target,
        id,
        readonly,
        sharing,
        from,
        source: posix.normalize(posix.join('/', o.source ?? '/')),
        mode: modeOf(m, where, 0o755),
        uid: idNumber(m, 'uid', where, 0),
        gid: idNumber(m, 'gid', where, 0),
        dirKey: id,
        hasPerms: o.uid !== undefined || o.gid !== undefined || o.mode !== undefined,
      };
    }
    case 'tmpfs':
      return { type: 'tmpfs', target: checkTarget(m, absolute(o.target, ctx.cwd), where), sizeBytes: sizeOf(m, where) };
    case 'secret': {
      const id = o.id ?? (o.target !== undefined ? posix.basename(o.target) : undefined);
      if (!id) throw bad(where, m, 'a secret needs an id (id=NAME) or a target');
      if (o.env !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(o.env)) throw bad(where, m, `invalid env "${o.env}": want a variable name`);
      // With env= alone the secret is only in the environment (BuildKit).
      const target = o.target !== undefined ? absolute(o.target, ctx.cwd) : o.env === undefined ? `/run/secrets/${id}` : undefined;
      return {
        type: 'secret',
        id,
        target: target === undefined ? undefined : checkTarget(m, target, where),
        env: o.env,
        required: o.required === 'true',
        mode: modeOf(m, where, 0o400),
        uid: idNumber(m, 'uid', where, 0),
        gid: idNumber(m, 'gid', where, 0),
      };
    }
    case 'ssh':
      return {
        type: 'ssh',
        id: o.id ?? 'default',
        target: checkTarget(m, absolute(o.target ?? `/run/buildkit/ssh_agent.${index}`, ctx.cwd), where),
        required: o.required === 'true',
        mode: modeOf(m, where, 0o600),
        uid: idNumber(m, 'uid', where, 0),
        gid: idNumber(m, 'gid', where, 0),
      };
    default:
      return unreachable(m.type);
  }
}

/**
 * The store dir of a cache mount: BuildKit keys it by its id and its base ref
 * (solver/llbsolver/mounts/mount.go getRefCacheDir: `id + ":" + ref.ID()`), the base being
 * the `from` source, or a dir made with the given uid/gid/mode (dockerfile2llb/
 * convert_runmount.go setCacheUIDGID), or nothing. `fromContent` names the `from` source
 * (its stage's key or image digest); our seed copies only `source`, so that is part of it too.
 */
export function cacheDirKey(m: Extract<PlannedMount, { type: 'cache' }>, fromContent: unknown): string {
  const base: Record<string, unknown> = {};
  if (m.from) {
    base.from = fromContent;
    if (m.source !== '/') base.source = m.source;
  }
  if (m.hasPerms && m.source === '/') base.perms = { mode: m.mode, uid: m.uid, gid: m.gid };
  if (Object.keys(base).length === 0) return m.id;
  return `${m.id} base=${hexOf(digestOf(JSON.stringify(base))).slice(0, 16)}`;
}

/**
 * What a mount adds to the step's cache key: a bind's target and content (`content` is the
 * context digest or the source stage's key or image digest); for the others only where they
 * go and which one, never their contents (a cache's or a secret's).
 */
export function mountKey(m: PlannedMount, content: unknown): unknown {
  switch (m.type) {
    case 'bind':
      return { type: 'bind', target: m.target, source: m.source, readonly: m.readonly, content };
    case 'cache':
      // The base is an input of the step, as in BuildKit; left out when there is none, so the
      // keys of plain cache mounts stay as they were.
      return { type: 'cache', target: m.target, id: m.id, readonly: m.readonly, sharing: m.sharing, ...(m.dirKey !== m.id ? { dir: m.dirKey } : {}) };
    case 'tmpfs':
      return { type: 'tmpfs', target: m.target, size: m.sizeBytes };
    case 'secret':
      return { type: 'secret', id: m.id, target: m.target, env: m.env };
    case 'ssh':
      return { type: 'ssh', id: m.id, target: m.target };
    default:
      return unreachable(m);
  }
}
