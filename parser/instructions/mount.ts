import { problem } from './problem.js';
import type { MountType, RunMount } from './types.js';

/**
 * `RUN --mount=type=cache,target=/x,...` (BuildKit's runmount): comma-separated fields, each
 * `key=value` or a bare boolean, read as CSV (a field may be "quoted").
 */
const TYPES: readonly MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const ALIASES: Record<string, string> = {
  src: 'source', dst: 'target', destination: 'target', ro: 'readonly', rw: 'readwrite',
};
const KEYS = new Set(['type', 'from', 'source', 'target', 'readonly', 'readwrite', 'id', 'sharing', 'required', 'mode', 'uid', 'gid', 'size', 'env']);
const BOOLEANS = new Set(['readonly', 'readwrite', 'required']);

function csvFields(spec: string): string[] {
  const fields: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < spec.length; i++) {
    const ch = spec[i];
    if (quoted) {
      if (ch === '"' && spec[i + 1] === '"') { cur += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"' && cur === '') quoted = true;
    else if (ch === ',') { fields.push(cur); cur = ''; }
    else cur += ch;
  }
  if (quoted) throw problem('bad-mount', spec, 'unterminated quote');
  fields.push(cur);
  return fields;
}

export function parseMount(spec: string): RunMount {
  const options: Record<string, string> = {};
  let type: MountType = 'bind';
  for (const field of csvFields(spec)) {
    const eq = field.indexOf('=');
    const rawKey = (eq >= 0 ? field.slice(0, eq) : field).trim().toLowerCase();
    const key = ALIASES[rawKey] ?? rawKey;
    if (!KEYS.has(key)) throw problem('bad-mount', spec, `unexpected key '${rawKey}'`);
    if (eq < 0 && !BOOLEANS.has(key)) throw problem('bad-mount', spec, `${rawKey} needs a value (${rawKey}=...)`);
    let value = eq >= 0 ? field.slice(eq + 1) : 'true';
    if (BOOLEANS.has(key)) {
      const lower = value.toLowerCase();
      if (lower !== 'true' && lower !== 'false') throw problem('bad-mount', spec, `invalid value for ${rawKey}: "${value}"`);
      value = lower;
    }
    if (key === 'readwrite') {
      options.readonly = value === 'true' ? 'false' : 'true';
      continue;
    }
    if (key === 'type') {
      if (!(TYPES as readonly string[]).includes(value.toLowerCase())) throw problem('bad-mount', spec, `unsupported mount type "${value}"`);
      type = value.toLowerCase() as MountType;
    }
    if (key === 'sharing' && !['shared', 'private', 'locked'].includes(value)) {
      throw problem('bad-mount', spec, `unsupported sharing value "${value}"`);
    }
    options[key] = value;
  }
  if ((type === 'bind' || type === 'cache' || type === 'tmpfs') && !options.target) {
    throw problem('bad-mount', spec, 'a target is required');
  }
  return { type, options, spec };
}
