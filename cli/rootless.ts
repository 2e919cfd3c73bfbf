// Rootless mode: an ordinary user's tsbuild runs again as root of its own user namespace
// (runtime-helper/userns-cmd.c maps the user and its /etc/subuid, /etc/subgid ranges), where
// mounts, chown and containers work as they do for root. This process only waits for it.
import { spawn } from 'node:child_process';
import { helperPath } from '../common/index.js';

/** Commands that only read what the user may read anyway, and `info`, which reports from outside. */
const OUTSIDE = new Set(['info', 'parse', 'login', 'help', '--help', '-h', '--version']);

/** Whether `argv` must run in a user namespace: not root, not already in tsbuild's own. */
export function needsUserNamespace(argv: string[], env: NodeJS.ProcessEnv): boolean {
  if (process.getuid?.() === 0 || env.TSBUILD_USERNS) return false;
  let i = 0;
  while (i < argv.length && (argv[i] === '--root' || argv[i].startsWith('--root='))) i += argv[i] === '--root' ? 2 : 1;
  return !OUTSIDE.has(argv[i] ?? 'help');
}

/** Run this same command in a user namespace; resolves with its exit code (a signal is re-raised). */
export function runInUserNamespace(argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const script = process.argv[1];
    const child = spawn(helperPath, ['--userns', process.execPath, script, ...argv], { stdio: 'inherit' });
    // Ctrl-C reaches the whole process group (so the inner tsbuild already has it); a signal
    // sent to this process alone is passed on.
    const ignore = () => undefined;
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', ignore);
    process.on('SIGTERM', forward);
    process.on('SIGHUP', forward);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal) {
        process.removeAllListeners(signal);
        process.kill(process.pid, signal);
        return;
      }
      resolve(code ?? 1);
    });
  });
}
