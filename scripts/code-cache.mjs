#!/usr/bin/env node
// Makes dist/tsbuild-main.cjs.cache, V8's code cache for the main bundle (cli/launch.ts):
// runs real builds into a throw-away store through the launcher, each of which writes the
// cache of everything compiled so far (the cache it started from included), so the cache
// covers what they all ran: a cold and a cached build of fixtures/scratch-hello, then of a
// multi-stage one with ENV, WORKDIR, COPY --from and a RUN of the static hello (a cached
// rebuild of a RUN step compiled its own functions lazily without it, bench/RESULTS.md).
// Only a speed-up: a build that fails still writes its cache, and without one tsbuild
// still works (V8 compiles from source).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'tsbuild-code-cache-'));
const hello = join(root, 'fixtures', 'scratch-hello');
const multi = join(work, 'multi');
const DOCKERFILE = `FROM scratch AS stage
ARG NAME=hello
COPY hello /bin/$NAME
FROM scratch
ENV PATH=/bin GREETING=hi
WORKDIR /app
COPY --from=stage /bin/hello /bin/hello
LABEL warm=up
RUN --network=none ["/bin/hello"]
CMD ["/bin/hello"]
`;

/** One warm-up build; its error text when it failed. */
function build(ctx) {
  const r = spawnSync(join(root, 'dist', 'tsbuild.cjs'), ['--root', join(work, 'store'), 'build', '-q', ctx], {
    env: { ...process.env, TSBUILD_CODE_CACHE: 'write', TSBUILD_REPLAY: 'off' },
    encoding: 'utf8',
  });
  return r.status === 0 ? undefined : (r.stderr || String(r.error)).trim();
}

try {
  mkdirSync(multi);
  writeFileSync(join(multi, 'Dockerfile'), DOCKERFILE);
  copyFileSync(join(hello, 'hello'), join(multi, 'hello'));
  // Cold, then cached: a rebuild runs functions a cold build does not (its cache lookups).
  // Only the first must work: the RUN needs root or user namespaces, which not every install has.
  const failed = build(hello);
  if (failed) console.warn(`code-cache: the warm-up build failed (${failed.split('\n').pop()}); the cache covers what it ran`);
  else for (const ctx of [hello, multi, multi]) build(ctx);
} finally {
  rmSync(work, { recursive: true, force: true });
}
