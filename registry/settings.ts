import type { ClientOptions } from './client.js';

/**
 * Registry settings from the environment a command runs in: `TSBUILD_INSECURE_REGISTRIES`
 * (comma-separated hosts, the config setting next to `--insecure-registry`) and
 * `DOCKER_CONFIG` (where config.json lives).
 */
export function registrySettings(env: NodeJS.ProcessEnv, insecureRegistries: string[] = []): ClientOptions {
  const fromEnv = (env.TSBUILD_INSECURE_REGISTRIES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return { env, insecureRegistries: [...new Set([...insecureRegistries, ...fromEnv])] };
}
