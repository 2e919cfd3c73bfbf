import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { helperPath } from '../common/index.js';
import { openStore } from '../store/index.js';
import { snapshotDir } from '../executor/index.js';
import { mountTmpfs } from '../executor/tmpfs.js';

/** The two numbers the issue asks for apart from the workloads: a trivial RUN's cost, and a 50k-file snapshot's. */

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** A build context `work/name` holding just `dockerfile`. */
export function context(work: string, name: string, dockerfile: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

/** Wall time of one command (ms); a failure is fatal. */
export function timed(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`bench: ${argv.join(' ')} failed:\n${r.stderr.slice(-3000)}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * What one `RUN true` adds to a build: `FROM busybox` + `RUN true` against `FROM busybox` +
 * `ENV A=1`, both with --no-cache (so the RUN really runs), alternating; medians.
 */
export function trivialRunOverhead(cli: string, root: string, work: string, runs: number): { run: number; env: number } {
  const withRun = context(work, 'trivial-run', 'FROM busybox\nRUN true\n');
  const withEnv = context(work, 'trivial-env', 'FROM busybox\nENV A=1\n');
  const build = (dir: string) => timed([cli, '--root', root, 'build', '-q', '--no-cache', dir]);
  build(withRun); // the base layer is extracted once, outside the measurement
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(build(withRun));
    b.push(build(withEnv));
  }
  return { run: median(a), env: median(b) };
}

/**
 * Snapshot (upper dir → layer tar in the store) of 50,000 empty files in 50 dirs on a tmpfs,
 * as workload 4's RUN leaves them: the runtime helper's listing of the dir (which a RUN's
 * helper makes when its command ends), then the layer.
 */
export async function snapshot50k(work: string, runs: number): Promise<number> {
  const store = await openStore(mkdtempSync(join(work, 'snap-root-')));
  const dir = join(work, 'snap-upper');
  const tmpfs = await mountTmpfs(dir, { name: 'tsbuild-bench', sizeBytes: 1 << 30 });
  if (!tmpfs) throw new Error('bench: cannot mount a tmpfs');
  try {
    for (let d = 0; d < 50; d++) {
      mkdirSync(join(dir, 'data', String(d)), { recursive: true });
      for (let i = 0; i < 1000; i++) writeFileSync(join(dir, 'data', String(d), `f${i}`), '');
    }
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      const listing = join(work, 'snap-listing');
      execFileSync(helperPath, ['--tree', dir, listing]);
      await snapshotDir(store, dir, { kind: 'overlay-upper', treeFile: listing });
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return median(times);
  } finally {
    await tmpfs.unmount();
    rmSync(store.root, { recursive: true, force: true });
  }
}
