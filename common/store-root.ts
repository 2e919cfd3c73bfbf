import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The store root rule (runtime-helper's replay door follows the same one). Root of the user
 * namespace rootless mode made (TSBUILD_USERNS, runtime-helper/userns-cmd.c) is the user still.
 * Here rather than in engine/: every command reads it before the engine is loaded.
 */
export function defaultRoot(env: NodeJS.ProcessEnv, uid = process.getuid?.()): string {
  if (env.TSBUILD_ROOT) return env.TSBUILD_ROOT;
  if (uid === 0 && !env.TSBUILD_USERNS) return '/var/lib/tsbuild';
  const data = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(data, 'tsbuild');
}
