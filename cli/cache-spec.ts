import { resolve } from 'node:path';
import type { CacheSpec } from '../engine/index.js';
import { usageError } from './args.js';

/** `type=registry,ref=R` or `type=local,dest=DIR` (to) / `type=local,src=DIR` (from). */
export function parseCacheSpec(value: string, direction: 'to' | 'from', cwd: string): CacheSpec {
  const fields = new Map<string, string>();
  for (const part of value.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) throw usageError(`invalid --cache-${direction} "${value}": want key=value pairs such as type=registry,ref=HOST/NAME:TAG`);
    fields.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  const type = fields.get('type') ?? (fields.has('ref') ? 'registry' : undefined);
  if (type === 'registry') {
    const ref = fields.get('ref');
    if (!ref) throw usageError(`--cache-${direction} type=registry needs ref=HOST/NAME:TAG`);
    return { type, ref };
  }
  if (type === 'local') {
    const dir = fields.get(direction === 'to' ? 'dest' : 'src');
    if (!dir) throw usageError(`--cache-${direction} type=local needs ${direction === 'to' ? 'dest' : 'src'}=DIR`);
    return { type, dir: resolve(cwd, dir) };
  }
  throw usageError(`--cache-${direction}: unsupported cache type "${type ?? ''}" (registry or local)`);
}
