// The `tsbuild` executable (bundled by scripts/bundle.mjs into dist/tsbuild.cjs, package.json's
// bin). Its #! lines run /bin/sh, which hands the command to the front door first
// (front-door/, a small static program): a fully cached build whose inputs are unchanged is
// replayed there, without Node (cli/build-replay.ts). Otherwise Node runs this file, which compiles
// the program (dist/tsbuild-main.cjs, one CommonJS bundle of cli/main.ts) with V8's code
// cache (dist/tsbuild-main.cjs.cache, made by `npm install`): that skips most of compiling
// the bundle (bench/RESULTS.md, "Measurements behind the code").
// NODE_EXTRA_CA_CERTS arrives as TSBUILD_EXTRA_CA_CERTS: Node would read that file at every
// start, and tsbuild needs it only when it talks TLS to a registry (engine/settings.ts hands
// it to registry/http.ts then).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { projectRoot } from '../common/index.js';

const extraCa = process.env.TSBUILD_EXTRA_CA_CERTS;
if (extraCa !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = extraCa;
  delete process.env.TSBUILD_EXTRA_CA_CERTS;
}

function loadMain(): void {
  const file = join(projectRoot, 'dist', 'tsbuild-main.cjs');
  const cacheFile = `${file}.cache`;
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // No code cache: V8 compiles from source.
  }
  // ASCII (scripts/bundle.mjs checks): latin1 decodes it in half the time UTF-8 takes.
  const script = new Script(Module.wrap(readFileSync(file, 'latin1')), { filename: file, cachedData });
  if (process.env.TSBUILD_CODE_CACHE === 'write') {
    // `npm install` runs a build this way: the cache then holds every function that build compiled.
    process.on('exit', () => {
      writeFileSync(`${cacheFile}.tmp`, script.createCachedData());
      renameSync(`${cacheFile}.tmp`, cacheFile);
    });
  }
  if (/(^|,)start(,|$)/.test(process.env.TSBUILD_DEBUG ?? '')) {
    // What start-up costs hinge on (test/e2e/start-up.test.ts): a refused code cache, and any
    // V8 flag, which makes V8 refuse Node's own code cache too.
    const cache = cachedData === undefined ? 'missing' : script.cachedDataRejected ? 'rejected' : 'used';
    process.stderr.write(`tsbuild: code cache ${cache}; node flags: ${process.execArgv.join(' ') || 'none'}\n`);
  }
  const mod = { exports: {} };
  (script.runInThisContext() as (...a: unknown[]) => void).call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
}

loadMain();
