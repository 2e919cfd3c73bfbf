import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cliPath, type CliResult } from '../../cli/tsbuild.js';

/**
 * `tsbuild ARGS` as a child process, as runCli runs it, watched from /proc while it runs:
 * the peak resident set size of the process (VmHWM, which the kernel keeps for the
 * process's life; the launcher `exec`s Node in the same pid, so the last reading is Node's).
 * A child still running after `killAfterMs` is killed (SIGKILL) and says so: a test of a
 * hostile input must end even when the code under test does not.
 */

export interface WatchedResult extends CliResult {
  peakRssBytes: number;
  wasKilled: boolean;
}

function vmHwmBytes(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined; // gone, or a zombie without memory
  }
}

export function runCliWatched(
  args: string[],
  opts: { root: string; env?: NodeJS.ProcessEnv; killAfterMs: number },
): Promise<WatchedResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cliPath, args, { env: { ...process.env, ...opts.env, TSBUILD_ROOT: opts.root }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let peakRssBytes = 0;
    let wasKilled = false;
    const sample = () => {
      if (child.pid !== undefined) peakRssBytes = Math.max(peakRssBytes, vmHwmBytes(child.pid) ?? 0);
    };
    const ticker = setInterval(sample, 20);
    const killer = setTimeout(() => {
      wasKilled = true;
      child.kill('SIGKILL');
    }, opts.killAfterMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    // The last reading before the process is reaped: 'exit' comes after, when /proc has no memory left.
    child.stderr.on('end', sample);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(ticker);
      clearTimeout(killer);
      resolve({
        code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 0),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        peakRssBytes,
        wasKilled,
      });
    });
  });
}
