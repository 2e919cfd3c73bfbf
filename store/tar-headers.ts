import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * tar-stream's internal `headers.js` (not exported by its package), whose PAX decoder
 * store/tar-read.ts wraps. It must be the very module tar-stream's extractor requires:
 * here, the file beside tar-stream's index.js in node_modules; in the CLI bundle,
 * scripts/bundle.mjs replaces this file with an import of the bundled copy.
 */
export function loadTarHeaders(): unknown {
  const require = createRequire(import.meta.url);
  return require(join(dirname(require.resolve('tar-stream')), 'headers.js'));
}
