import { join } from 'node:path';
import { homedir } from 'node:os';

/** The store root: --root, then TSBUILD_ROOT, then /var/lib/tsbuild for root, else XDG data. */
export function defaultRoot(env: NodeJS.ProcessEnv): string {
  if (env.TSBUILD_ROOT) return env.TSBUILD_ROOT;
  if (process.getuid?.() === 0) return '/var/lib/tsbuild';
  const data = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(data, 'tsbuild');
}
