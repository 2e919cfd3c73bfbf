import { availableParallelism } from 'node:os';
import { UserError } from '../common/index.js';
import { DEFAULT_LEVEL, LEVEL_RANGE, type ExportCompression } from '../store/index.js';
import type { Settings } from './settings.js';

/**
 * How push, `save --format oci` and image/oci outputs compress layers, as BuildKit's exporter
 * attributes say it (util/compression/attrs.go): `compression=uncompressed|gzip|zstd`,
 * `compression-level=N`, `force-compression`. Levels are zlib's 0–9 for gzip and libzstd's
 * 1–22 for zstd; gzip defaults to 6 (Go's and zlib's default), zstd to 3 (libzstd's).
 */
export interface CompressionOption {
  type?: 'uncompressed' | 'gzip' | 'zstd';
  level?: number;
  force?: boolean;
}

export const compressionMessages = {
  'bad-level': (level: number, type: string, [lo, hi]: [number, number]) => `invalid compression-level ${level} for ${type}: want ${lo} to ${hi}`,
  'bad-cores': (n: number) => `invalid cores ${n}: want a whole number of at least 1`,
} satisfies Record<string, (...args: never[]) => string>;

/** Chunks compressed at once: `cores` when given, else the TSBUILD_CORES setting, else every core. */
export function coresOf(cores: number | undefined, settings: Settings): number {
  const n = cores ?? settings.cores ?? availableParallelism();
  if (!Number.isInteger(n) || n < 1) throw new UserError('usage', compressionMessages['bad-cores'](n), { exitCode: 2 });
  return n;
}

/** The checked compression of an export; an unknown level is one error line naming it. */
export function exportCompression(o: CompressionOption | undefined, cores: number): ExportCompression {
  const algorithm = o?.type ?? 'gzip';
  if (algorithm === 'uncompressed') return { algorithm, level: 0, isForced: o?.force === true, cores };
  const level = o?.level ?? DEFAULT_LEVEL[algorithm];
  const range = LEVEL_RANGE[algorithm];
  if (!Number.isInteger(level) || level < range[0] || level > range[1]) {
    throw new UserError('usage', compressionMessages['bad-level'](level, algorithm, range), { where: `compression-level=${level}`, exitCode: 2 });
  }
  return { algorithm, level, isForced: o?.force === true, cores };
}
