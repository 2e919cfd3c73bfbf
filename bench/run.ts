#!/usr/bin/env node
/**
 * `npm run bench`: the same workloads built by tsbuild and by Buildah in one run,
 * alternating A B A B, each scenario measured several times; prints medians, min/max,
 * the tsbuild/buildah ratio per cell and peak RSS (/usr/bin/time -v). Needs, once:
 *   apt-get install -y buildah time busybox-static
 * Then, apart: the cost of one trivial RUN step and of snapshotting a 50,000-file upper dir.
 * And the sandbox's cost: a trivial RUN in it against the host network and an insecure step,
 * and Debian + apt-get install python3 through the NAT against the host network.
 * Last, parse+plan (and build) of 1,000 against 10,000 instructions (bench/parse-plan.ts).
 * BENCH_RUNS=N runs per cell (5); BENCH_ONLY=3 one workload, BENCH_ONLY=extras only the two
 * numbers, BENCH_ONLY=sandbox only the sandbox's (BENCH_APT=0 leaves out the apt-get builds),
 * BENCH_ONLY=parse-plan only the scaling (needs neither Buildah nor busybox).
 * BENCH_ONLY=multi-platform: workload 2 for linux/amd64,linux/arm64 (qemu-user-static), beside Buildah's --platform.
 * Never run by `npm test`; tests never assert on time.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../common/index.js';
import { workloads, type Workload } from './workloads.js';
import { median, snapshot50k, trivialRunOverhead } from './extras.js';
import { aptThroughNat, sandboxRunCost } from './sandbox.js';
import { buildScaling, parsePlanScaling, type ScaleRow } from './parse-plan.js';
import { multiPlatformWorkload2 } from './multi-platform.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const cli = join(projectRoot, 'dist', 'tsbuild.cjs');
const work = mkdtempSync(join(tmpdir(), 'tsbuild-bench-'));

interface Sample {
  wallMs: number;
  rssKb: number;
}

/** Run a command under /usr/bin/time -v; fail loudly if it fails. */
function measure(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Sample {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-v', ...argv], { cwd, env, encoding: 'utf8', maxBuffer: 1 << 26 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) {
    throw new Error(`bench: ${argv.join(' ')} failed (${r.status}):\n${r.stderr.slice(-3000)}`);
  }
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  return { wallMs, rssKb: m ? Number(m[1]) : 0 };
}

function must(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0) throw new Error(`bench: ${argv.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

/** Both tools' side of the comparison: how to reset, prepare the base image, and build. */
interface Tool {
  name: string;
  reset(needsBusybox: boolean): void;
  build(dir: string, tag: string): string[];
  env: NodeJS.ProcessEnv;
}

const busyboxArchive = join(work, 'busybox-oci.tar');

function makeBusyboxArchive(): void {
  const root = join(work, 'seed-root');
  must(['sh', join(projectRoot, 'fixtures', 'busybox', 'make.sh')], { env: { ...process.env, TSBUILD_ROOT: root } });
  must(['node', cli, '--root', root, 'save', '--format', 'oci', '-o', busyboxArchive, 'busybox:latest']);
}

const tsbuildRoot = join(work, 'tsbuild-root');
const tsbuild: Tool = {
  name: 'tsbuild',
  env: { ...process.env, TSBUILD_ROOT: tsbuildRoot },
  reset(needsBusybox) {
    rmSync(tsbuildRoot, { recursive: true, force: true });
    if (needsBusybox) must(['node', cli, '--root', tsbuildRoot, 'load', '-i', busyboxArchive]);
  },
  // As a user runs it: the bundle through its #! line.
  build: (dir, tag) => [cli, '--root', tsbuildRoot, 'build', '-q', '-t', tag, dir],
};

const buildahRoot = join(work, 'buildah-root');
const buildahRun = join(work, 'buildah-runroot');
const buildahArgs = ['--root', buildahRoot, '--runroot', buildahRun, '--storage-driver', 'overlay'];
const buildah: Tool = {
  name: 'buildah',
  env: process.env,
  reset(needsBusybox) {
    spawnSync('buildah', [...buildahArgs, 'rmi', '--all', '--force'], { stdio: 'ignore' });
    if (needsBusybox) must(['buildah', ...buildahArgs, 'pull', '--quiet', `oci-archive:${busyboxArchive}`]);
    if (needsBusybox) must(['buildah', ...buildahArgs, 'tag', must(['buildah', ...buildahArgs, 'images', '-q']).trim().split('\n')[0], 'busybox:latest']);
  },
  build: (dir, tag) => ['buildah', ...buildahArgs, 'bud', '--layers', '--pull=never', '-q', '-t', tag, dir],
};

type Scenario = 'cold' | 'cached' | 'touched' | 'mtime';

function setMtimes(dir: string, when: Date): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) setMtimes(p, when);
    utimesSync(p, when, when);
  }
}

function runScenario(w: Workload, dir: string, tool: Tool, scenario: Scenario, i: number): Sample {
  const tag = `bench-${tool.name}`;
  if (scenario === 'cold') {
    tool.reset(w.needsBusybox);
    return measure(tool.build(dir, tag), dir, tool.env);
  }
  if (scenario === 'touched' && w.touchFile) writeFileSync(join(dir, w.touchFile), `touched ${tool.name} ${i} ${Date.now()}\n`);
  if (scenario === 'mtime') setMtimes(join(dir, 'src'), new Date(Date.now() - 1000 * (i + 1)));
  return measure(tool.build(dir, tag), dir, tool.env);
}

function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : `${ms.toFixed(0)}ms`;
}

async function printScaling(): Promise<void> {
  const rows: ScaleRow[] = [...(await parsePlanScaling(RUNS)), buildScaling(cli, work, 3)];
  console.log('\n| what | 1,000 lines (median) | 10,000 lines (median) | ratio (target ≤ 12) |\n|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.what} | ${fmt(r.smallMs)} | ${fmt(r.largeMs)} | ${r.ratio.toFixed(1)} |`);
}

function printMultiPlatform(): void {
  const rows = multiPlatformWorkload2(cli, work, RUNS);
  console.log('\n| workload 2, linux/amd64,linux/arm64 | tsbuild median (min–max) | buildah median (min–max) | ratio |\n|---|---|---|---|');
  for (const r of rows) {
    const t = r.tsbuildMs;
    const b = r.buildahMs;
    console.log(`| ${r.scenario} | ${fmt(median(t))} (${fmt(Math.min(...t))}–${fmt(Math.max(...t))}) | ${fmt(median(b))} (${fmt(Math.min(...b))}–${fmt(Math.max(...b))}) | ${(median(t) / median(b)).toFixed(2)} |`);
  }
}

function main(): void {
  if (!existsSync(cli)) throw new Error('bench: run `npm install` first (dist/cli/main.js is missing)');
  const only = process.env.BENCH_ONLY;
  if (only === 'parse-plan') {
    printScaling()
      .then(() => rmSync(work, { recursive: true, force: true }))
      .catch((e) => {
        console.error(String(e));
        process.exitCode = 1;
      });
    return;
  }
  if (only === 'multi-platform') {
    printMultiPlatform();
    rmSync(work, { recursive: true, force: true });
    return;
  }
  makeBusyboxArchive();
  const rows: string[] = [];
  rows.push('| workload | scenario | tsbuild median (min–max) | buildah median (min–max) | ratio | peak RSS tsbuild / buildah |');
  rows.push('|---|---|---|---|---|---|');
  (async () => {
    for (const w of workloads) {
      if (only && !w.name.startsWith(only)) continue;
      const dir = join(work, `w-${w.name.split(' ')[0]}`);
      await w.make(dir);
      const scenarios: Scenario[] = ['cold', 'cached'];
      if (w.touchFile) scenarios.push('touched');
      if (w.mtimeScenario) scenarios.push('mtime');
      for (const sc of scenarios) {
        const samples: Record<string, Sample[]> = { tsbuild: [], buildah: [] };
        for (let i = 0; i < RUNS; i++) {
          for (const tool of [tsbuild, buildah]) {
            if (sc !== 'cold' && i === 0) runScenario(w, dir, tool, 'cold', i); // warm the cache first
            samples[tool.name].push(runScenario(w, dir, tool, sc, i));
          }
        }
        const t = samples.tsbuild.map((s) => s.wallMs);
        const b = samples.buildah.map((s) => s.wallMs);
        const rss = (xs: Sample[]) => `${Math.max(...xs.map((s) => s.rssKb / 1024)).toFixed(0)}MB`;
        rows.push(
          `| ${w.name} | ${sc} | ${fmt(median(t))} (${fmt(Math.min(...t))}–${fmt(Math.max(...t))}) | ${fmt(median(b))} (${fmt(Math.min(...b))}–${fmt(Math.max(...b))}) | ${(median(t) / median(b)).toFixed(2)} | ${rss(samples.tsbuild)} / ${rss(samples.buildah)} |`,
        );
        console.log(rows[rows.length - 1]);
      }
    }
    console.log('\n' + rows.join('\n'));
    if (!only || only === 'extras') {
      const root = join(work, 'extras-root');
      must(['node', cli, '--root', root, 'load', '-i', busyboxArchive]);
      const t = trivialRunOverhead(cli, root, work, 11);
      console.log(`\nTrivial RUN step: +${(t.run - t.env).toFixed(0)} ms (medians of 11 --no-cache builds: ${t.run.toFixed(0)} ms with RUN true, ${t.env.toFixed(0)} ms with ENV)`);
      console.log(`Snapshot of a 50,000-file upper dir on tmpfs (the helper's listing, then a layer tar in the store): ${(await snapshot50k(work, 3)).toFixed(0)} ms (median of 3)`);
    }
    if (!only || only === 'sandbox') {
      const root = join(work, 'sandbox-root');
      must(['node', cli, '--root', root, 'load', '-i', busyboxArchive]);
      const c = sandboxRunCost(cli, root, work, 11);
      const add = (k: string) => `+${(c[k] - c.env).toFixed(0)} ms`;
      console.log(
        `\nTrivial RUN step (medians of 11 --no-cache builds, less the same build with ENV: ${c.env.toFixed(0)} ms):` +
          ` sandbox ${add('sandbox')}, host network ${add('hostNetwork')}, insecure on the host network ${add('insecureHost')};` +
          ` the sandbox's cost: ${(c.sandbox - c.insecureHost).toFixed(1)} ms (NAT ${(c.sandbox - c.hostNetwork).toFixed(1)} ms);` +
          ` each further RUN: ${((c.sandbox5 - c.sandbox) / 4).toFixed(1)} ms in the sandbox, ${((c.hostNetwork5 - c.hostNetwork) / 4).toFixed(1)} ms on the host network`,
      );
      if (process.env.BENCH_APT !== '0') {
        const apt = aptThroughNat(cli, work, 3);
        console.log(`Debian + apt-get install python3, cold (medians of 3): through the NAT ${fmt(apt.nat)}, host network ${fmt(apt.host)}, ratio ${(apt.nat / apt.host).toFixed(2)}`);
      }
    }
    if (!only) printMultiPlatform();
    if (!only) await printScaling();
    rmSync(work, { recursive: true, force: true });
  })().catch((e) => {
    console.error(String(e));
    process.exitCode = 1;
  });
}

main();
