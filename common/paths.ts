import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project's root folder, found from this compiled file (dist/common/paths.js → ../..),
 * so the helper binary and fixtures are found whatever the current directory is.
 */
export const projectRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The static runtime helper built by `npm install` (scripts/build-native.mjs). */
export const helperPath: string = resolve(projectRoot, 'runtime-helper', 'tsbuild-helper');
