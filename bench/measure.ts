import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Sample {
  wallMs: number;
  rssKb: number;
}

/** Run a command under /usr/bin/time -v; fail loudly if it fails. */
export function measure(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Sample {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-v', ...argv], { cwd, env, encoding: 'utf8', maxBuffer: 1 << 26 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) {
    throw new Error(`bench: ${argv.join(' ')} failed (${r.status}):\n${r.stderr.slice(-3000)}`);
  }
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  return { wallMs, rssKb: m ? Number(m[1]) : 0 };
}

/** Unmount whatever is mounted under `dir` (a podman store's private overlay bind), deepest first. */
export function unmountUnder(dir: string): void {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p) => p && (p === dir || p.startsWith(dir + '/')))
    .sort((a, b) => b.length - a.length);
  for (const p of points) spawnSync('umount', ['-l', p]);
}

export function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : `${ms.toFixed(0)}ms`;
}
