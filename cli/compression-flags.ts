import type { CompressionOption } from '../engine/index.js';
import { boolOpt, stringOpt, usageError, type OptionSpec, type ParsedArgs } from './args.js';
import { parseCompressionLevel, parseCompressionType } from './output-spec.js';

/** `--compression`, `--compression-level`, `--force-compression` and `--cores` of push and save. */
export const compressionOptions: OptionSpec[] = [
  { name: 'compression', type: 'string' },
  { name: 'compression-level', type: 'string' },
  { name: 'force-compression', type: 'boolean' },
  { name: 'cores', type: 'string' },
];

export const COMPRESSION_USAGE = '[--compression gzip|zstd|uncompressed] [--compression-level N] [--force-compression] [--cores N]';

/** The flags as the engine takes them; undefined where none was given. */
export function compressionFlags(args: ParsedArgs): { compression?: CompressionOption; cores?: number } {
  const out: { compression?: CompressionOption; cores?: number } = {};
  const type = stringOpt(args, 'compression');
  const level = stringOpt(args, 'compression-level');
  const isForced = boolOpt(args, 'force-compression');
  if (type !== undefined || level !== undefined || isForced) {
    out.compression = {
      ...(type !== undefined ? { type: parseCompressionType(type, '--compression') } : {}),
      ...(level !== undefined ? { level: parseCompressionLevel(level, '--compression-level') } : {}),
      ...(isForced ? { force: true } : {}),
    };
  }
  const cores = stringOpt(args, 'cores');
  if (cores !== undefined) {
    if (!/^[1-9][0-9]*$/.test(cores)) throw usageError(`invalid --cores "${cores}": want a whole number of at least 1`);
    out.cores = Number(cores);
  }
  return out;
}
