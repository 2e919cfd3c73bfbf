/**
 * `run -v`, `--mount` and `--tmpfs` as Docker reads them (docker/cli opts/mount.go and
 * volume/mounts/linux_parser.go): `-v /host:/ctr[:ro]` binds a host path (made when
 * missing, as -v does), `-v NAME:/ctr` a named volume of the store, `-v /ctr` a new
 * anonymous one; `--mount type=bind|volume|tmpfs,source=…,target=…[,readonly]` is the
 * explicit form (a missing bind source is an error there); `--tmpfs /ctr[:size=N]`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { isAbsolute, posix } from 'node:path';
import { UserError } from '../common/index.js';
import { isValidVolumeName, type ContainerMount } from '../store/index.js';

export interface MountRequest extends ContainerMount {
  /** volume: made by this run (so it is filled from the image, as Docker does). */
  anonymous?: boolean;
  tmpfsBytes?: number;
}

function invalid(spec: string, why: string): UserError {
  return new UserError('bad-mount', `invalid mount config: ${why}: '${spec}'`, { where: spec, exitCode: 125 });
}

function target(spec: string, path: string | undefined): string {
  if (!path) throw invalid(spec, 'field target must not be empty');
  if (!path.startsWith('/')) throw invalid(spec, `invalid mount path: '${path}' mount path must be absolute`);
  const clean = posix.normalize(path);
  if (clean === '/') throw invalid(spec, 'invalid specification: destination can\'t be \'/\'');
  return clean;
}

/** `-v SRC:DST[:OPTS]` or `-v DST`. */
export function parseVolumeFlag(spec: string, cwd: string): MountRequest {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw invalid(spec, 'invalid volume specification');
  if (parts.length === 1) return { type: 'volume', source: randomBytes(32).toString('hex'), destination: target(spec, parts[0]), readonly: false, anonymous: true };
  const [src, dst, opts = ''] = parts;
  let readonly = false;
  for (const o of opts.split(',').filter(Boolean)) {
    if (o === 'ro') readonly = true;
    else if (o === 'rw') readonly = false;
    else if (o === 'z' || o === 'Z') continue; // SELinux labels: nothing to relabel here
    else throw invalid(spec, `invalid mode: ${o}`);
  }
  const destination = target(spec, dst);
  if (src.startsWith('/') || src.startsWith('.')) return { type: 'bind', source: posix.resolve(cwd, src), destination, readonly };
  if (!isValidVolumeName(src)) throw invalid(spec, `"${src}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`);
  return { type: 'volume', source: src, destination, readonly };
}

/** `--mount type=…,source=…,target=…[,readonly][,tmpfs-size=…]`. */
export function parseMountFlag(spec: string, cwd: string, parseSize: (v: string) => number | undefined): MountRequest {
  const fields = new Map<string, string>();
  for (const field of spec.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? (key === 'readonly' || key === 'ro' ? 'true' : '') : field.slice(eq + 1);
    if (eq < 0 && value === '') throw invalid(spec, `invalid field '${field}' must be a key=value pair`);
    fields.set({ src: 'source', dst: 'target', destination: 'target', ro: 'readonly' }[key] ?? key, value);
  }
  const known = ['type', 'source', 'target', 'readonly', 'tmpfs-size', 'tmpfs-mode', 'volume-nocopy'];
  for (const k of fields.keys()) if (!known.includes(k)) throw invalid(spec, `unexpected key '${k}'`);
  const ro = fields.get('readonly');
  if (ro !== undefined && !['true', 'false', '1', '0'].includes(ro)) throw invalid(spec, `invalid value for readonly: ${ro}`);
  const readonly = ro === 'true' || ro === '1';
  const type = fields.get('type') ?? 'volume';
  const destination = target(spec, fields.get('target'));
  const source = fields.get('source');
  switch (type) {
    case 'bind':
      if (!source) throw invalid(spec, 'field source must not be empty');
      return { type, source: isAbsolute(source) ? source : posix.resolve(cwd, source), destination, readonly };
    case 'volume':
      if (source === undefined) return { type, source: randomBytes(32).toString('hex'), destination, readonly, anonymous: true };
      if (!isValidVolumeName(source)) throw invalid(spec, `"${source}" includes invalid characters for a local volume name`);
      return { type, source, destination, readonly };
    case 'tmpfs': {
      if (source) throw invalid(spec, 'source is not supported for tmpfs');
      const size = fields.get('tmpfs-size');
      return { type, destination, readonly: false, tmpfsBytes: size === undefined ? undefined : parseSize(size) };
    }
    default:
      throw invalid(spec, `mount type '${type}' is not supported: want bind, volume or tmpfs`);
  }
}

/** `--tmpfs /ctr[:size=64m,mode=1777]`. */
export function parseTmpfsFlag(spec: string, parseSize: (v: string) => number | undefined): MountRequest {
  const [path, opts = ''] = spec.split(':', 2);
  let tmpfsBytes: number | undefined;
  for (const o of opts.split(',').filter(Boolean)) {
    if (o.startsWith('size=')) tmpfsBytes = parseSize(o.slice(5));
    else if (!/^(mode=1777|rw|exec|noexec|nosuid|nodev)$/.test(o)) throw invalid(spec, `tmpfs option ${o} is not supported yet`);
  }
  return { type: 'tmpfs', destination: target(spec, path), readonly: false, tmpfsBytes };
}

/** A bind's host side: -v makes a missing dir, --mount refuses (Docker's two behaviours). */
export async function prepareBindSource(m: MountRequest, fromVolumeFlag: boolean): Promise<void> {
  const exists = await stat(m.source!).then(() => true, () => false);
  if (exists) return;
  if (!fromVolumeFlag) throw new UserError('bad-mount', `invalid mount config for type "bind": bind source path does not exist: ${m.source}`, { where: m.source, exitCode: 125 });
  await mkdir(m.source!, { recursive: true });
}
