import { createRequire } from 'node:module';
import { join } from 'node:path';
import { UserError } from './errors.js';
import { projectRoot } from './paths.js';

const load = /* @__PURE__ */ createRequire(import.meta.url);

/**
 * One of the bundles scripts/bundle.mjs writes beside the main one (dist/`name`), loaded at
 * its first use: the parts most commands never run stay out of the start. A missing one is
 * a broken install, said as such (not, say, an unreachable registry).
 */
export function loadBundle<T>(name: string): T {
  const file = join(projectRoot, 'dist', name);
  try {
    return load(file) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
    throw new UserError('install-incomplete', `tsbuild's install is incomplete: ${file} is missing`, {
      where: file,
      hint: `run npm install in ${projectRoot}`,
    });
  }
}
