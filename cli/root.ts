import { join } from 'node:path';
import { homedir } from 'node:os';

/** The store root: --root, then TSBUILD_ROOT, then /var/lib/tsbuild for root, else XDG data. */
export function defaultRoot(env: NodeJS.ProcessEnv): string {
  if (env.TSBUILD_ROOT) return env.TSBUILD_ROOT;
  if (process.getuid?.() === 0) return '/var/lib/tsbuild';
  const data = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(data, 'tsbuild');
}

/** Split global options (before the verb) from the rest. */
export function splitGlobals(argv: string[], env: NodeJS.ProcessEnv): { root: string; rest: string[] } {
  let root: string | undefined;
  let i = 0;
  while (i < argv.length) {
    const a = argv[i];
    if (a === '--root' && i + 1 < argv.length) {
      root = argv[i + 1];
      i += 2;
    } else if (a.startsWith('--root=')) {
      root = a.slice('--root='.length);
      i += 1;
    } else break;
  }
  return { root: root ?? defaultRoot(env), rest: argv.slice(i) };
}
