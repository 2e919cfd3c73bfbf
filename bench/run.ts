#!/usr/bin/env node
/**
 * `npm run bench`: the same workloads built by tsbuild, Docker's BuildKit (a private dockerd
 * the bench starts and stops, bench/peers.ts) and Buildah in one run, the tools alternating
 * in every round, each scenario measured several times; prints medians, min/max, the ratio of
 * tsbuild to the best peer per cell and peak RSS (/usr/bin/time -v; for BuildKit the client's,
 * and the daemon's VmHWM beside it). Needs, once (never in CI):
 *   apt-get install -y buildah time busybox-static podman
 *   apt-get install -y --no-install-recommends docker.io
 * A tool that is missing (or a dockerd that won't start) is left out with one note line.
 * Scenarios: cold (an empty store holding the base images), cached (the first rebuild:
 * TSBUILD_REPLAY=off), replayed (tsbuild's replay of a fully cached build; the peers rebuild),
 * touched / mtime (workload 3), edit (one source file changed before each rebuild); apt/npm
 * workloads also time their commands in a plain chroot (bench/floor.ts), the physical floor.
 * Then push and pull against skopeo and podman (bench/push-pull.ts), the cost of one trivial
 * RUN step and of snapshotting a 50,000-file upper dir, the sandbox's cost, and parse+plan of
 * 1,000 against 10,000 instructions (bench/parse-plan.ts).
 * BENCH_ONLY=multi-platform: workload 2 for linux/amd64,linux/arm64 (qemu-user-static), beside Buildah's --platform.
 * BENCH_RUNS=N runs per cell (5); BENCH_COLD_RUNS=N cold runs of the apt/npm workloads (3);
 * BENCH_ONLY=3 one workload (or a comma list: 3,6), =push-pull, =extras, =sandbox
 * (BENCH_APT=0 leaves out the apt-get builds), =parse-plan (needs no peer); BENCH_PEERS=buildkit
 * only that peer. Never run by `npm test`; tests never assert on time.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync, readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../common/index.js';
import { workloads, type Workload } from './workloads.js';
import { median, snapshot50k, trivialRunOverhead } from './extras.js';
import { aptThroughNat, sandboxRunCost } from './sandbox.js';
import { buildScaling, parsePlanScaling, type ScaleRow } from './parse-plan.js';
import { multiPlatformWorkload2 } from './multi-platform.js';
import { buildahTool, buildkitTool, cli, must, tsbuildTool, type BuildKind, type Tool } from './peers.js';
import { chrootFloorMs } from './floor.js';
import { pushPull } from './push-pull.js';
import { fmt, measure, unmountUnder, type Sample } from './measure.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const work = mkdtempSync(join(tmpdir(), 'tsbuild-bench-'));
const archives: Record<string, string> = {};

function makeBusyboxArchive(): void {
  const root = join(work, 'seed-root');
  must(['sh', join(projectRoot, 'fixtures', 'busybox', 'make.sh')], { env: { ...process.env, TSBUILD_ROOT: root } });
  archives.busybox = join(work, 'busybox.tar');
  must(['node', cli, '--root', root, 'save', '-o', archives.busybox, 'busybox:latest']);
}

function makeDebianArchive(): void {
  const root = join(work, 'seed-root');
  must(['bash', join(projectRoot, 'fixtures', 'debian', 'make.sh'), '--root', root]);
  archives.debian = join(work, 'debian.tar');
  must(['node', cli, '--root', root, 'save', '-o', archives.debian, 'debian:latest']);
}

type Scenario = 'cold' | 'cached' | 'replayed' | 'touched' | 'mtime' | 'edit';

function setMtimes(dir: string, when: Date): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) setMtimes(p, when);
    utimesSync(p, when, when);
  }
}

const kindOf: Record<Scenario, BuildKind> = { cold: 'build', cached: 'first-rebuild', replayed: 'replayed', touched: 'first-rebuild', mtime: 'first-rebuild', edit: 'first-rebuild' };

function runScenario(w: Workload, dir: string, tool: Tool, scenario: Scenario, i: number, made: string): Sample {
  const tag = `bench-${tool.name}`;
  if (scenario === 'cold') {
    tool.reset(w.bases.map((b) => archives[b]));
    return measure(tool.build(dir, tag), dir, tool.env('build'));
  }
  if (scenario === 'touched' && w.touchFile) writeFileSync(join(dir, w.touchFile), `touched ${tool.name} ${i} ${Date.now()}\n`);
  if (scenario === 'mtime') setMtimes(join(dir, 'src'), new Date(Date.now() - 1000 * (i + 1)));
  if (scenario === 'edit' && w.edit) writeFileSync(join(dir, w.edit.file), w.edit.content(made, i + 1));
  return measure(tool.build(dir, tag), dir, tool.env(kindOf[scenario]));
}

function lastLines(e: unknown): string {
  return String(e instanceof Error ? e.message : e).trim().split('\n').slice(-2).join(' ').slice(-400);
}

/** A peer's build that fails once (dockerd once looked up a just-loaded base image in Docker Hub) is tried again, and said so. */
function runOnceMore(f: () => Sample, what: string): Sample {
  try {
    return f();
  } catch (e) {
    console.log(`${what} failed, tried once more: ${lastLines(e)}`);
    return f();
  }
}

const cell = (xs: number[]) => (xs.length ? `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : '–');

/** One table row: tsbuild, each peer, the floor; the ratio to the best peer's median. */
function row(w: string, sc: string, samples: Record<string, Sample[]>, peers: string[], daemonMb: Record<string, number>): string {
  const wall = (n: string) => (samples[n] ?? []).map((s) => s.wallMs);
  const ran = peers.filter((p) => wall(p).length);
  const best = ran.length ? ran.reduce((a, b) => (median(wall(a)) <= median(wall(b)) ? a : b)) : undefined;
  const ratio = best ? `${(median(wall('tsbuild')) / median(wall(best))).toFixed(2)} (${best})` : '–';
  const floor = wall('floor').length ? `${cell(wall('floor'))}, ratio ${(median(wall('tsbuild')) / median(wall('floor'))).toFixed(2)}` : '';
  const rss = (n: string) => {
    const xs = samples[n] ?? [];
    if (!xs.length) return '–';
    const own = `${Math.max(...xs.map((s) => s.rssKb / 1024)).toFixed(0)}MB`;
    return daemonMb[n] ? `${own} (daemon ${daemonMb[n].toFixed(0)}MB)` : own;
  };
  return `| ${w} | ${sc} | ${cell(wall('tsbuild'))} | ${peers.map((p) => cell(wall(p))).join(' | ')} | ${floor} | ${ratio} | ${['tsbuild', ...peers].map(rss).join(' / ')} |`;
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

async function main(): Promise<void> {
  if (!existsSync(cli)) throw new Error('bench: run `npm install` first (dist/tsbuild.cjs is missing)');
  const only = process.env.BENCH_ONLY;
  if (only === 'parse-plan') {
    await printScaling();
    return;
  }
  if (only === 'multi-platform') {
    printMultiPlatform();
    rmSync(work, { recursive: true, force: true });
    return;
  }
  const selected = workloads.filter((w) => !only || only.split(',').some((o) => w.name.startsWith(o + ' ')));
  const wantPushPull = !only || only.split(',').includes('push-pull');
  if (selected.some((w) => w.bases.includes('busybox')) || !only || only === 'extras' || only === 'sandbox') makeBusyboxArchive();
  if (selected.some((w) => w.bases.includes('debian')) || wantPushPull) makeDebianArchive();
  const peers: Tool[] = [];
  const tsbuild = tsbuildTool(work);
  if (selected.length) {
    const wanted = process.env.BENCH_PEERS?.split(',');
    for (const made of [await buildkitTool(work), buildahTool(work)]) {
      if (typeof made === 'string') console.log(made);
      else if (!wanted || wanted.includes(made.name)) peers.push(made);
    }
  }
  const names = peers.map((p) => p.name);
  console.log(`load average at the start: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const rows: string[] = [
    `| workload | scenario | tsbuild | ${names.join(' | ')} | chroot floor | tsbuild / best peer | peak RSS tsbuild / ${names.join(' / ')} |`,
    `|---|---|---|${names.map(() => '---|').join('')}---|---|---|`,
  ];
  try {
    for (const w of selected) {
      const dir = join(work, `w-${w.name.split(' ')[0]}`);
      await w.make(dir);
      const made = w.edit ? readFileSync(join(dir, w.edit.file), 'utf8') : '';
      const tools = [tsbuild, ...peers.filter((p) => !w.skipPeers?.[p.name])];
      for (const p of peers) if (w.skipPeers?.[p.name]) console.log(w.skipPeers[p.name]);
      const scenarios: Scenario[] = ['cold', 'cached', 'replayed'];
      if (w.touchFile) scenarios.push('touched');
      if (w.mtimeScenario) scenarios.push('mtime');
      if (w.edit) scenarios.push('edit');
      const warm = new Set<string>();
      for (const sc of scenarios) {
        const samples: Record<string, Sample[]> = Object.fromEntries(tools.map((t) => [t.name, []]));
        const n = sc === 'cold' ? Math.min(RUNS, w.coldRuns ?? RUNS) : RUNS;
        for (const p of peers) p.daemonPeakMb?.();
        const failed: string[] = [];
        for (let i = 0; i < n; i++) {
          for (const tool of tools) {
            if (failed.includes(tool.name)) continue;
            try {
              // A tool is warm once one of its builds of this workload succeeded (the last cold one).
              if (sc !== 'cold' && i === 0 && !warm.has(tool.name)) runScenario(w, dir, tool, 'cold', i, made);
              // A replay needs the record the first rebuild leaves.
              if (sc === 'replayed' && i === 0) runScenario(w, dir, tool, 'replayed', i, made);
              samples[tool.name].push(runOnceMore(() => runScenario(w, dir, tool, sc, i, made), `${w.name} ${sc} ${tool.name}`));
              warm.add(tool.name);
            } catch (e) {
              // One tool's failure (a peer's network, say) leaves its cell empty, not the run.
              failed.push(tool.name);
              console.log(`${w.name} ${sc}: ${tool.name} failed: ${lastLines(e)}`);
            }
          }
          try {
            if (sc === 'cold' && w.floor) (samples.floor ??= []).push({ wallMs: chrootFloorMs(work, dir, w.floor), rssKb: 0 });
          } catch (e) {
            console.log(`${w.name}: the chroot floor failed: ${String(e instanceof Error ? e.message : e).slice(-400)}`);
          }
        }
        if (w.edit) writeFileSync(join(dir, w.edit.file), made);
        const daemon = Object.fromEntries(peers.map((p) => [p.name, p.daemonPeakMb?.() ?? 0]));
        rows.push(row(w.name, sc, samples, names, daemon));
        console.log(rows[rows.length - 1]);
      }
    }
  } finally {
    for (const p of peers) await p.stop();
  }
  if (selected.length) console.log('\n' + rows.join('\n'));
  if (wantPushPull) {
    const pp = await pushPull(work, archives.debian, Math.min(RUNS, 3));
    console.log('\n| what | tsbuild | skopeo | podman | tsbuild / skopeo | tsbuild / podman | peak RSS tsbuild / skopeo / podman |\n|---|---|---|---|---|---|---|');
    for (const r of pp) {
      const m = (n: string) => median(r.samples[n].map((s) => s.wallMs));
      const has = (n: string) => r.samples[n].length > 0;
      const rss = (n: string) => (has(n) ? `${Math.max(...r.samples[n].map((s) => s.rssKb / 1024)).toFixed(0)}MB` : '–');
      const c = (n: string) => (has(n) ? cell(r.samples[n].map((s) => s.wallMs)) : '–');
      const ratio = (n: string) => (has(n) ? (m('tsbuild') / m(n)).toFixed(2) : '–');
      console.log(`| ${r.what} | ${c('tsbuild')} | ${c('skopeo')} | ${c('podman')} | ${ratio('skopeo')} | ${ratio('podman')} | ${rss('tsbuild')} / ${rss('skopeo')} / ${rss('podman')} |`);
    }
  }
  if (!only || only === 'extras') {
    const root = join(work, 'extras-root');
    must(['node', cli, '--root', root, 'load', '-i', archives.busybox]);
    const t = trivialRunOverhead(cli, root, work, 11);
    console.log(`\nTrivial RUN step: +${(t.run - t.env).toFixed(0)} ms (medians of 11 --no-cache builds: ${t.run.toFixed(0)} ms with RUN true, ${t.env.toFixed(0)} ms with ENV)`);
    console.log(`Snapshot of a 50,000-file upper dir on tmpfs (the helper's listing, then a layer tar in the store): ${(await snapshot50k(work, 3)).toFixed(0)} ms (median of 3)`);
  }
  if (!only || only === 'sandbox') {
    const root = join(work, 'sandbox-root');
    must(['node', cli, '--root', root, 'load', '-i', archives.busybox]);
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
  console.log(`load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

main()
  .catch((e) => {
    console.error(String(e instanceof Error ? e.message : e));
    process.exitCode = 1;
  })
  .finally(() => {
    unmountUnder(work); // a podman store's own bind mount, if a run stopped early
    rmSync(work, { recursive: true, force: true });
  });
