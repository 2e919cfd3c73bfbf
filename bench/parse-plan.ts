import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRaw, typeInstructions } from '../parser/index.js';
import { planBuild, type PlanOptions } from '../planner/index.js';
import { median } from './extras.js';

/**
 * Issue 16, promise 6: parse and plan must grow linearly with the instruction count. Times
 * parse (raw tree + typed instructions) and plan of `FROM scratch` + N copies of one line,
 * for 1,000 and 10,000 lines; the ratio should be about 10 (target ≤ 12).
 * Also the whole `tsbuild build` of the LABEL files (a cold store each time), which adds the
 * executor and the store's cache records.
 */

export const PARSE_PLAN_LINES: Record<string, (i: number) => string> = {
  LABEL: (i) => `LABEL key${i}="value ${i}"`,
  ENV: (i) => `ENV e${i}=v${i}`,
  ARG: (i) => `ARG a${i}=${i}`,
  // Issue 22: a RUN after ARGs and ENVs looked each ARG up in the whole Env (cubic in the file).
  'ARG/ENV/RUN': (i) => [`ARG a${i}=${i}`, `ENV e${i}=v${i}`, `RUN echo ${i}`][i % 3],
};

function dockerfile(n: number, line: (i: number) => string): string {
  const lines = ['FROM scratch'];
  for (let i = 0; i < n; i++) lines.push(line(i));
  return lines.join('\n') + '\n';
}

const planOptions: PlanOptions = {
  buildArgs: new Map(),
  platform: { os: 'linux', architecture: 'amd64' },
  escape: '\\',
  file: 'Dockerfile',
  network: 'default',
  entitlements: new Set(),
  resolveImage: () => Promise.reject(new Error('bench: FROM scratch needs no image')),
  hashContext: () => Promise.reject(new Error('bench: no COPY here')),
  resolveRemote: () => Promise.reject(new Error('bench: no ADD of a URL here')),
};

async function parseAndPlanMs(text: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  await planBuild(typeInstructions(parseRaw(text, 'Dockerfile')), planOptions);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export interface ScaleRow {
  what: string;
  /** Medians; the ratio is of the medians. */
  smallMs: number;
  largeMs: number;
  ratio: number;
}

/**
 * Parse+plan of 1,000 and 10,000 lines of each kind, two ways:
 * - warm: in this process, after a warm-up of each size, `runs` times each, alternating;
 * - cold: the first parse+plan of a fresh process, as one tsbuild command does it; `runs`
 *   processes per size, alternating.
 */
export async function parsePlanScaling(runs: number): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (const [kind, line] of Object.entries(PARSE_PLAN_LINES)) {
    const small = dockerfile(1000, line);
    const large = dockerfile(10_000, line);
    await parseAndPlanMs(small);
    await parseAndPlanMs(large);
    const warm: [number[], number[]] = [[], []];
    const cold: [number[], number[]] = [[], []];
    for (let i = 0; i < runs; i++) {
      warm[0].push(await parseAndPlanMs(small));
      warm[1].push(await parseAndPlanMs(large));
    }
    for (let i = 0; i < runs; i++) {
      cold[0].push(firstInChild(kind, 1000));
      cold[1].push(firstInChild(kind, 10_000));
    }
    for (const [mode, [a, b]] of [['warm', warm], ['cold', cold]] as const) {
      rows.push({ what: `parse+plan ${kind} (${mode})`, smallMs: median(a), largeMs: median(b), ratio: median(b) / median(a) });
    }
  }
  return rows;
}

function firstInChild(kind: string, lines: number): number {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), kind, String(lines)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench: parse+plan of ${lines} ${kind} lines failed:\n${r.stderr}`);
  return Number(r.stdout);
}

// In the child: print the time of one parse+plan, the first of the process.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [kind, lines] = process.argv.slice(2);
  process.stdout.write(String(await parseAndPlanMs(dockerfile(Number(lines), PARSE_PLAN_LINES[kind]))));
}

/** Median wall time of `tsbuild build` of 1,000 and 10,000 LABELs, each into a fresh store. */
export function buildScaling(cli: string, work: string, runs: number): ScaleRow {
  const time = (n: number): number[] => {
    const dir = join(work, `labels-${n}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), dockerfile(n, PARSE_PLAN_LINES.LABEL));
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const root = join(work, `labels-root-${n}`);
      rmSync(root, { recursive: true, force: true });
      const t0 = process.hrtime.bigint();
      const r = spawnSync(cli, ['--root', root, 'build', '-q', '-t', `labels-${n}`, dir], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`bench: build of ${n} LABELs failed:\n${r.stderr}`);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return times;
  };
  const small = time(1000);
  const large = time(10_000);
  return {
    what: 'tsbuild build LABEL (cold store)',
    smallMs: median(small),
    largeMs: median(large),
    ratio: median(large) / median(small),
  };
}
