import type { ClientOptions } from './client.js';
import { defaultTimeouts, type RequestTimeouts } from './http.js';
import { registryError } from './messages.js';

/**
 * Registry settings from the environment a command runs in: `TSBUILD_INSECURE_REGISTRIES`
 * (comma-separated hosts, the config setting next to `--insecure-registry`),
 * `DOCKER_CONFIG` (where config.json lives) and `TSBUILD_REGISTRY_TIMEOUT` (seconds one
 * request may take before it fails as too slow, longer while data keeps coming: http.ts).
 */
export function registrySettings(env: NodeJS.ProcessEnv, insecureRegistries: string[] = []): ClientOptions {
  const fromEnv = (env.TSBUILD_INSECURE_REGISTRIES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return { env, insecureRegistries: [...new Set([...insecureRegistries, ...fromEnv])], timeouts: timeoutsOf(env.TSBUILD_REGISTRY_TIMEOUT) };
}

function timeoutsOf(value: string | undefined): RequestTimeouts {
  if (value === undefined || value.trim() === '') return defaultTimeouts;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw registryError('bad-registry-timeout', [value], { hint: 'e.g. TSBUILD_REGISTRY_TIMEOUT=120' });
  }
  return { ...defaultTimeouts, totalMs: seconds * 1000 };
}
