import type { Writable } from 'node:stream';
import type { Annotation, AnnotationType, BuildOutput, CompressionOption } from '../engine/index.js';
import { usageError } from './args.js';

/**
 * `--output`/`-o` and `--annotation` as buildx reads them (util/buildflags/export.go,
 * build/opt.go CreateExports): CSV `type=T,dest=D,key=value…`; a bare `DIR` is
 * `type=local,dest=DIR` and `-` is `type=tar,dest=-` (stdout). Every attribute is one
 * tsbuild acts on, one of BuildKit's it does not do yet (said so), or a mistake.
 */

const COMPRESSION = ['compression', 'compression-level', 'force-compression'] as const;

/** What each type takes besides `type` and `dest` (`registry` is `image,push=true`). */
const ATTRIBUTES: Record<string, readonly string[]> = {
  image: ['name', 'push', 'unpack', ...COMPRESSION],
  registry: ['name', 'push', 'unpack', ...COMPRESSION],
  local: ['platform-split'],
  tar: ['platform-split'],
  oci: ['name', 'tar', ...COMPRESSION],
  docker: ['name', 'tar'],
};

/** BuildKit's other exporter attributes (docs: build/exporters): known, not done here yet. */
const NOT_YET = new Set([
  'push-by-digest', 'insecure', 'registry.insecure', 'dangling-name-prefix', 'name-canonical', 'compression',
  'compression-level', 'force-compression', 'rewrite-timestamp', 'oci-mediatypes', 'oci-artifact', 'store',
  'mode', 'attestation-prefix', 'context', 'buildinfo', 'buildinfo-attrs', 'annotation',
]);

/** CSV fields as Go's encoding/csv reads one line: `"a,b"` quotes a comma, `""` is a quote. */
export function csvFields(value: string, what: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= value.length) throw usageError(`invalid ${what} "${value}": a quote is not closed`);
        if (value[i] === '"') {
          if (value[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += value[i++];
      }
      if (i < value.length && value[i] !== ',') throw usageError(`invalid ${what} "${value}": text after a closing quote`);
    } else {
      const end = value.indexOf(',', i);
      field = value.slice(i, end < 0 ? value.length : end);
      i = end < 0 ? value.length : end;
    }
    out.push(field);
    if (i >= value.length) return out;
    i++; // the comma
  }
}

/** Go's strconv.ParseBool, which BuildKit uses for every boolean attribute. */
function parseBool(value: string, spec: string, key: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw usageError(`invalid --output "${spec}": ${key}=${value} is not a boolean`);
}

export interface OutputTarget {
  stdout: Writable & { isTTY?: boolean };
}

/** One `--output`: a typed output, with `-` (or no dest for tar and oci) meaning stdout. */
export function parseOutputSpec(spec: string, target: OutputTarget): { output: BuildOutput; isStdout: boolean } {
  const fields = csvFields(spec, '--output');
  if (fields.length === 1 && fields[0] === spec && !spec.startsWith('type=')) {
    if (spec === '-') return stdoutOutput({ type: 'tar', dest: target.stdout }, target);
    return { output: { type: 'local', dest: spec }, isStdout: false };
  }
  let type: string | undefined;
  let dest: string | undefined;
  const attrs = new Map<string, string>();
  for (const f of fields) {
    const i = f.indexOf('=');
    if (i < 0) throw usageError(`invalid --output "${spec}": invalid value ${f} (want key=value)`);
    const key = f.slice(0, i).trim().toLowerCase();
    const value = f.slice(i + 1);
    if (key === 'type') type = value;
    else if (key === 'dest') dest = value;
    else attrs.set(key, value);
  }
  if (!type) throw usageError(`invalid --output "${spec}": type is required for output`);
  const allowed = ATTRIBUTES[type];
  if (!allowed) throw usageError(`invalid --output "${spec}": unknown output type "${type}" (want ${Object.keys(ATTRIBUTES).join(', ')})`);
  for (const key of attrs.keys()) {
    if (allowed.includes(key)) continue;
    if (NOT_YET.has(key) || key.startsWith('annotation')) {
      throw usageError(`--output type=${type}: ${key}= is not supported yet${key.startsWith('annotation') ? ' (use --annotation)' : ''}`);
    }
    throw usageError(`invalid --output "${spec}": unknown attribute "${key}" for type=${type}${allowed.length ? ` (want ${['dest', ...allowed].join(', ')})` : ' (want dest)'}`);
  }
  const names = attrs.has('name') ? attrs.get('name')!.split(',').map((n) => n.trim()).filter(Boolean) : undefined;
  const bool = (key: string) => (attrs.has(key) ? parseBool(attrs.get(key)!, spec, key) : undefined);
  bool('unpack'); // checked only: the store extracts a layer when something first uses it
  const compression = compressionAttrs(attrs, spec);
  const withCompression = compression ? { compression } : {};
  const platformSplit = bool('platform-split');
  const split = platformSplit === undefined ? {} : { platformSplit };
  switch (type) {
    case 'image':
    case 'registry':
      if (dest !== undefined) throw usageError(`invalid --output "${spec}": type=${type} takes no dest`);
      return { output: { type: 'image', ...(names ? { names } : {}), push: type === 'registry' || bool('push') === true, ...withCompression }, isStdout: false };
    case 'local':
      if (dest === undefined || dest === '') throw usageError(`dest is required for local exporter`);
      if (dest === '-') throw usageError(`dest cannot be stdout for local exporter`);
      return { output: { type: 'local', dest, ...split }, isStdout: false };
    case 'tar':
      if (dest === undefined || dest === '-') return stdoutOutput({ type: 'tar', dest: target.stdout, ...split }, target);
      return { output: { type: 'tar', dest, ...split }, isStdout: false };
    case 'oci':
    case 'docker': {
      const isTar = bool('tar') !== false;
      const extra = { ...(names ? { names } : {}), ...(isTar ? {} : { tar: false }), ...withCompression };
      if (!isTar) {
        if (dest === undefined || dest === '') throw usageError(`dest is required for ${type} exporter`);
        if (dest === '-') throw usageError(`dest cannot be stdout for ${type} exporter`);
        return { output: { type, dest, ...extra }, isStdout: false };
      }
      // buildx: docker without dest loads the image (into the store, for tsbuild); oci writes to stdout.
      if (dest === undefined && type === 'docker') return { output: { type: 'image', ...(names ? { names } : {}) }, isStdout: false };
      if (dest === undefined || dest === '-') return stdoutOutput({ type, dest: target.stdout, ...extra }, target);
      return { output: { type, dest, ...extra }, isStdout: false };
    }
    default:
      throw usageError(`[internal] output type ${type}`);
  }
}

/** BuildKit's compression attributes (util/compression/attrs.go); force-compression with no value is true. */
function compressionAttrs(attrs: Map<string, string>, spec: string): CompressionOption | undefined {
  if (!COMPRESSION.some((k) => attrs.has(k))) return undefined;
  const out: CompressionOption = {};
  const type = attrs.get('compression');
  if (type !== undefined) out.type = parseCompressionType(type, `--output "${spec}"`);
  const level = attrs.get('compression-level');
  if (level !== undefined) out.level = parseCompressionLevel(level, `--output "${spec}"`);
  const force = attrs.get('force-compression');
  if (force !== undefined) out.force = force === '' ? true : parseBool(force, spec, 'force-compression');
  return out;
}

/** `gzip`, `zstd` or `uncompressed` (BuildKit's estargz is refused by name). */
export function parseCompressionType(value: string, what: string): 'gzip' | 'zstd' | 'uncompressed' {
  if (value === 'gzip' || value === 'zstd' || value === 'uncompressed') return value;
  if (value === 'estargz') throw usageError(`${what}: compression=estargz is not supported (want gzip, zstd or uncompressed)`);
  throw usageError(`invalid ${what}: unsupported compression type ${value} (want gzip, zstd or uncompressed)`);
}

/** A whole number, as strconv.ParseInt reads it; the engine checks its range for the type. */
export function parseCompressionLevel(value: string, what: string): number {
  if (!/^[-+]?[0-9]+$/.test(value)) throw usageError(`invalid ${what}: non-integer value ${value} specified for compression-level`);
  return Number(value);
}

function stdoutOutput(output: BuildOutput, target: OutputTarget): { output: BuildOutput; isStdout: boolean } {
  if (target.stdout.isTTY) throw usageError(`dest file is required for ${output.type} exporter. refusing to write to console`);
  return { output, isStdout: true };
}

/** Every `--output`; only one may write to stdout. */
export function parseOutputSpecs(specs: string[], target: OutputTarget): { outputs: BuildOutput[]; isStdout: boolean } {
  let isStdout = false;
  const outputs: BuildOutput[] = [];
  for (const s of specs) {
    if (s === '') continue;
    const r = parseOutputSpec(s, target);
    if (r.isStdout && isStdout) throw usageError('multiple outputs configured to write to stdout');
    isStdout ||= r.isStdout;
    outputs.push(r.output);
  }
  return { outputs, isStdout };
}

const ANNOTATION_TYPE = /^([a-z-]+)(?:\[([A-Za-z0-9_/-]+)\])?$/;
const TYPES: readonly AnnotationType[] = ['manifest', 'manifest-descriptor', 'index', 'index-descriptor'];

/** `--annotation [type[,type…]:]key=value` (buildx ParseAnnotations): one entry per type. */
export function parseAnnotation(spec: string): Annotation[] {
  const eq = spec.indexOf('=');
  if (eq < 0) throw usageError(`invalid annotation "${spec}", expected key=value`);
  const k = spec.slice(0, eq);
  const value = spec.slice(eq + 1);
  const colon = k.indexOf(':');
  if (colon < 0) return [{ key: k, value }];
  const key = k.slice(colon + 1);
  return k
    .slice(0, colon)
    .split(',')
    .map((t) => {
      const m = ANNOTATION_TYPE.exec(t);
      if (!m) throw usageError(`invalid annotation type "${t}", expected type and optional platform in square brackets`);
      const type = TYPES.find((x) => x === m[1]);
      if (!type) throw usageError(`unknown annotation type "${m[1]}" (want ${TYPES.join(', ')})`);
      return { type, ...(m[2] ? { platform: m[2] } : {}), key, value };
    });
}
