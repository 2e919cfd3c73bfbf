import { homedir, release } from 'node:os';
import { join } from 'node:path';
import { UserError, defaultRoot, inUserNamespace } from '../common/index.js';
import type { RuntimeSettings } from '../executor/index.js';
import type { ClientOptions } from '../registry/index.js';
import type { RemoteSettings } from '../remote/index.js';

/**
 * Everything tsbuild takes from its environment, read in this one place and passed down as
 * options: nothing below the engine reads `process.env`. An API caller may build Settings
 * by hand, or from any environment.
 */
export interface Settings {
  /** The store root: TSBUILD_ROOT, else /var/lib/tsbuild for root, else $XDG_DATA_HOME/tsbuild. */
  root: string;
  /** TSBUILD_INSECURE_REGISTRIES, DOCKER_CONFIG, TSBUILD_REGISTRY_TIMEOUT. */
  registry: ClientOptions;
  /** PATH (where slirp4netns is looked for), TSBUILD_SLIRP4NETNS, TSBUILD_RUN_UPPER(_BYTES), TSBUILD_LAYER_DIRS(_BYTES), TSBUILD_BINFMT_DIR, TSBUILD_SNAPSHOTTER. */
  runtime: RuntimeSettings;
  /** SOURCE_DATE_EPOCH (whole seconds): fixes `created` and clamps layer mtimes. */
  sourceDateEpoch?: number;
  /** SSH_AUTH_SOCK: the agent `--ssh default` forwards. */
  sshAuthSock?: string;
  /** HTTP(S)_PROXY, NO_PROXY, NODE_EXTRA_CA_CERTS and PATH (for git): how ADD fetches URL and git sources. */
  remote: RemoteSettings;
  /** TSBUILD_CORES: layer chunks compressed at once by push and save (default: every core). */
  cores?: number;
  /** TSBUILD_GC_KEEP_STORAGE: the automatic gc's cap (a size, or `off`; engine/gc-policy.ts). */
  gcKeepStorage?: string;
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (!/^[0-9]+$/.test(v)) throw new UserError('bad-setting', `${name}="${v}" is not a whole number`, { where: name });
  return Number(v);
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new UserError('bad-setting', `${name}="${v}" is not one of ${allowed.join(', ')}`, { where: name });
}

/**
 * The registry client's switches: `TSBUILD_INSECURE_REGISTRIES` (comma-separated hosts, the
 * config setting beside `--insecure-registry`), `DOCKER_CONFIG` (where config.json lives),
 * `NODE_EXTRA_CA_CERTS` (CAs to trust besides Node's) and `TSBUILD_REGISTRY_TIMEOUT` (seconds
 * one request may take before it fails as too slow, longer while data keeps coming).
 */
export function registrySettings(env: NodeJS.ProcessEnv, insecureRegistries: string[] = []): ClientOptions {
  const fromEnv = (env.TSBUILD_INSECURE_REGISTRIES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const timeout = env.TSBUILD_REGISTRY_TIMEOUT;
  let timeouts: ClientOptions['timeouts'];
  if (timeout !== undefined && timeout.trim() !== '') {
    const seconds = Number(timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) {
      throw new UserError('bad-registry-timeout', `TSBUILD_REGISTRY_TIMEOUT="${timeout}" is not a number of seconds`, {
        where: 'TSBUILD_REGISTRY_TIMEOUT',
        hint: 'e.g. TSBUILD_REGISTRY_TIMEOUT=120',
      });
    }
    timeouts = { totalMs: seconds * 1000 };
  }
  return {
    insecureRegistries: [...new Set([...insecureRegistries, ...fromEnv])],
    dockerConfigDir: env.DOCKER_CONFIG || join(homedir(), '.docker'),
    // The launcher keeps Node from reading it at every start (cli/launch.ts): TLS reads it.
    ...(env.NODE_EXTRA_CA_CERTS ? { extraCaFile: env.NODE_EXTRA_CA_CERTS } : {}),
    ...(timeouts ? { timeouts } : {}),
  };
}

/**
 * ADD's downloads: the proxy variables as curl, git and BuildKit read them (the lower-case
 * name first), the registry's extra CAs, and PATH for git.
 */
export function remoteSettings(env: NodeJS.ProcessEnv): RemoteSettings {
  const either = (name: string) => env[name.toLowerCase()] || env[name] || '';
  return {
    proxy: { httpProxy: either('HTTP_PROXY'), httpsProxy: either('HTTPS_PROXY'), noProxy: either('NO_PROXY') },
    ...(env.NODE_EXTRA_CA_CERTS ? { extraCaFile: env.NODE_EXTRA_CA_CERTS } : {}),
    searchPath: env.PATH ?? '',
  };
}

/**
 * In a user namespace overlay's marks are user.* xattrs, which tmpfs keeps only from Linux
 * 6.6 on: before that, RUN uppers and layer dirs default to disk.
 */
function tmpfsHoldsOverlayMarks(): boolean {
  if (!inUserNamespace) return true;
  const [major = 0, minor = 0] = release().split('.').map((n) => parseInt(n, 10));
  return major > 6 || (major === 6 && minor >= 6);
}

/** Settings from an environment (the CLI passes its process's). */
export function settingsFromEnv(env: NodeJS.ProcessEnv): Settings {
  const sde = env.SOURCE_DATE_EPOCH;
  return {
    root: defaultRoot(env),
    registry: registrySettings(env),
    runtime: {
      searchPath: env.PATH ?? '',
      ...(env.TSBUILD_SLIRP4NETNS ? { slirp4netns: env.TSBUILD_SLIRP4NETNS } : {}),
      runUpper: oneOf(env, 'TSBUILD_RUN_UPPER', ['auto', 'memory', 'disk'] as const, tmpfsHoldsOverlayMarks() ? 'auto' : 'disk'),
      runUpperBytes: positiveInteger(env, 'TSBUILD_RUN_UPPER_BYTES') || undefined,
      layerDirs: oneOf(env, 'TSBUILD_LAYER_DIRS', ['auto', 'disk'] as const, tmpfsHoldsOverlayMarks() ? 'auto' : 'disk'),
      layerDirsBytes: positiveInteger(env, 'TSBUILD_LAYER_DIRS_BYTES') || undefined,
      ...(env.TSBUILD_BINFMT_DIR ? { binfmtDir: env.TSBUILD_BINFMT_DIR } : {}),
      snapshotter: oneOf(env, 'TSBUILD_SNAPSHOTTER', ['auto', 'overlay', 'copy'] as const, 'auto'),
    },
    // Docker and BuildKit ignore a value that is not a number of seconds.
    ...(sde !== undefined && /^[0-9]+$/.test(sde) ? { sourceDateEpoch: Number(sde) } : {}),
    ...(env.SSH_AUTH_SOCK ? { sshAuthSock: env.SSH_AUTH_SOCK } : {}),
    remote: remoteSettings(env),
    ...(positiveInteger(env, 'TSBUILD_CORES') ? { cores: positiveInteger(env, 'TSBUILD_CORES') } : {}),
    ...(env.TSBUILD_GC_KEEP_STORAGE ? { gcKeepStorage: env.TSBUILD_GC_KEEP_STORAGE.trim() } : {}),
  };
}
