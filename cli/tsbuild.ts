import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const bundle = resolve(here, '..', 'tsbuild.cjs');

/**
 * Path of the CLI a user runs (for tests and scripts that run tsbuild as a user would): the
 * bundle `npm install` makes (dist/tsbuild.cjs, package.json's bin), else the compiled entry.
 */
export const cliPath: string = existsSync(bundle) ? bundle : resolve(here, 'main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `tsbuild ARGS` as a child process and collect its output (used by tests and bench). */
export function runCli(
  args: string[],
  opts: { root?: string; cwd?: string; env?: NodeJS.ProcessEnv; input?: string | Buffer; cliFile?: string } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const env = { ...process.env, ...opts.env };
    if (opts.root) env.TSBUILD_ROOT = opts.root;
    const file = opts.cliFile ?? cliPath;
    // The bundle runs as a user runs it: through its #! line (the front door, then Node).
    const [command, argv] = file.endsWith('.cjs') ? [file, args] : [process.execPath, [file, ...args]];
    const child = spawn(command, argv, {
      cwd: opts.cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolvePromise({
        code: code ?? 128 + (signal ? 9 : 0),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    // A child that exits before reading its input (a replayed build) closes the pipe.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}
