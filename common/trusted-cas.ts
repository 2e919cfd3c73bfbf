import { readFileSync } from 'node:fs';
import { lazyBuiltin } from './builtin.js';

const tls = /* @__PURE__ */ lazyBuiltin<typeof import('node:tls')>('node:tls');

/**
 * The CAs to trust: Node's, plus the NODE_EXTRA_CA_CERTS file. tsbuild's launcher
 * (cli/launch.ts) keeps Node from reading that file at every start, so it is read here, when
 * TLS is used (also when Node did read it: a CA given twice is harmless). An unreadable file
 * is ignored with Node's own warning; the default CAs still work.
 */
export function trustedCas(file: string | undefined): string[] | undefined {
  if (!file) return undefined;
  try {
    return [...tls().rootCertificates, readFileSync(file, 'utf8')];
  } catch (e) {
    process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    return undefined;
  }
}
