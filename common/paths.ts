import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest folder at or above `dir` holding the project's package.json. */
function findProjectRoot(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'runtime-helper'))) return d;
    if (dirname(d) === d) return resolve(dir, '..', '..');
  }
}

/**
 * The project's root folder, found from this compiled file (dist/common/paths.js, or the
 * bundle dist/tsbuild.cjs), so the helper binary and fixtures are found whatever the
 * current directory is.
 */
export const projectRoot: string = findProjectRoot(dirname(fileURLToPath(import.meta.url)));

/** The static runtime helper built by `npm install` (scripts/build-native.mjs). */
export const helperPath: string = resolve(projectRoot, 'runtime-helper', 'tsbuild-helper');

/** `run --init`'s pid 1 (runtime-helper/init.c), bound into the container at /sbin/docker-init. */
export const initPath: string = resolve(projectRoot, 'runtime-helper', 'tsbuild-init');

/** Push's and save's parallel gzip (runtime-helper/gzip.c, libdeflate). */
export const gzipPath: string = resolve(projectRoot, 'runtime-helper', 'tsbuild-gzip');
