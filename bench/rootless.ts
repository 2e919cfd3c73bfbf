#!/usr/bin/env node
/**
 * Rootless against rootful tsbuild on workloads 2 and 3 (issue 21), in one run, alternating
 * root and user: cold (a fresh store with busybox loaded) and cached, BENCH_RUNS times each
 * (3); medians with min–max. The user is BENCH_USER, an existing user with /etc/subuid and
 * /etc/subgid ranges who can read this checkout; run as root:
 *   BENCH_USER=ci node dist/bench/rootless.js
 * Never run by `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../common/index.js';
import { median } from './extras.js';
import { workloads } from './workloads.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const USER = process.env.BENCH_USER;
const cli = join(projectRoot, 'dist', 'tsbuild.cjs');
const work = mkdtempSync(join(tmpdir(), 'tsbuild-bench-rootless-'));
chmodSync(work, 0o755);

function must(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`bench: ${argv.join(' ')} failed:\n${r.stderr.slice(-3000)}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** `tsbuild ARGS` as root, or as the user through setpriv with a clean environment. */
function tsbuild(asUser: boolean, root: string, args: string[]): number {
  if (!asUser) return must([cli, '--root', root, ...args]);
  return must(['setpriv', `--reuid=${USER}`, `--regid=${USER}`, '--clear-groups', 'env', '-i', `HOME=${work}`, 'PATH=/usr/bin:/bin', cli, '--root', root, ...args]);
}

async function main(): Promise<void> {
  if (!USER) throw new Error('bench: BENCH_USER=NAME names a user with /etc/subuid and /etc/subgid ranges');
  const seed = join(work, 'seed');
  must(['sh', join(projectRoot, 'fixtures', 'busybox', 'make.sh')], { ...process.env, TSBUILD_ROOT: seed });
  const archive = join(work, 'busybox.tar');
  must([cli, '--root', seed, 'save', '-o', archive, 'busybox']);
  chmodSync(archive, 0o644);
  console.log('| workload | scenario | rootful median (min–max) | rootless median (min–max) | ratio |\n|---|---|---|---|---|');
  for (const w of workloads.filter((x) => x.name.startsWith('2 ') || x.name.startsWith('3 '))) {
    const dir = join(work, `w${w.name[0]}`);
    await w.make(dir);
    must(['chmod', '-R', 'a+rX', dir]);
    const times: Record<string, number[]> = { 'root cold': [], 'user cold': [], 'root cached': [], 'user cached': [] };
    for (let i = 0; i < RUNS; i++) {
      for (const asUser of [false, true]) {
        const who = asUser ? 'user' : 'root';
        const root = join(work, `store-${who}`);
        rmSync(root, { recursive: true, force: true });
        must(['mkdir', '-p', root]);
        if (asUser) must(['chown', USER, root]);
        tsbuild(asUser, root, ['load', '-i', archive]);
        times[`${who} cold`].push(tsbuild(asUser, root, ['build', '-q', '-t', 'bench', dir]));
        times[`${who} cached`].push(tsbuild(asUser, root, ['build', '-q', '-t', 'bench', dir]));
      }
    }
    const cell = (xs: number[]) => `${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
    for (const s of ['cold', 'cached']) {
      const a = times[`root ${s}`];
      const b = times[`user ${s}`];
      console.log(`| ${w.name} | ${s} | ${cell(a)} | ${cell(b)} | ${(median(b) / median(a)).toFixed(2)} |`);
    }
  }
  rmSync(work, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});
