import { chmod, mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ioMessage } from '../common/index.js';
import { writeFileAtomic } from '../store/index.js';
import { registryError } from './messages.js';

/**
 * Registry credentials as Docker keeps them: `$DOCKER_CONFIG/config.json` (default
 * `~/.docker/config.json`), `auths` keyed by registry host (Docker Hub as
 * `https://index.docker.io/v1/`), each `{ auth: base64("user:password") }`. So a
 * `docker login` done earlier works here and a `tsbuild login` works for docker.
 * Credential helpers (credsStore/credHelpers) are not consulted.
 */

export interface Credentials {
  username: string;
  password: string;
}

const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** Where config.json lives: the option, else $DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(opts: { dockerConfigDir?: string; env?: NodeJS.ProcessEnv }): string {
  return opts.dockerConfigDir ?? opts.env?.DOCKER_CONFIG ?? join(homedir(), '.docker');
}

/** The `auths` keys that may hold credentials for `domain` (as in the reference: docker.io, host:port). */
function keysFor(domain: string): string[] {
  if (domain === 'docker.io' || domain === 'registry-1.docker.io' || domain === 'index.docker.io') {
    return [DOCKER_HUB_KEY, 'docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1'];
  }
  return [domain, `https://${domain}`, `http://${domain}`, `https://${domain}/v1/`, `https://${domain}/v2/`];
}

/** The key `login` writes for a registry. */
export function authKeyFor(domain: string): string {
  return keysFor(domain)[0];
}

type DockerConfig = { auths?: Record<string, { auth?: string; username?: string; password?: string }> } & Record<
  string,
  unknown
>;

async function readConfig(path: string): Promise<DockerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw registryError('docker-config-io', [path, ioMessage('read', e)], { where: path });
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as DockerConfig) : {};
  } catch {
    throw registryError('docker-config-io', [path, 'not valid JSON'], { where: path });
  }
}

/** Stored credentials for `domain`, or undefined (anonymous). */
export async function findCredentials(configDir: string, domain: string): Promise<Credentials | undefined> {
  const config = await readConfig(join(configDir, 'config.json'));
  const auths = config.auths ?? {};
  for (const key of keysFor(domain)) {
    const entry = auths[key];
    if (!entry) continue;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/** Record credentials for `domain` in config.json, keeping everything else in the file. */
export async function storeCredentials(configDir: string, domain: string, creds: Credentials): Promise<string> {
  const path = join(configDir, 'config.json');
  const config = await readConfig(path);
  const auths = { ...(config.auths ?? {}) };
  auths[authKeyFor(domain)] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  try {
    await mkdir(configDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(path, JSON.stringify({ ...config, auths }, null, '\t') + '\n');
    // The file holds a password: readable by its owner only, as docker leaves it.
    await chmod(path, 0o600);
  } catch (e) {
    throw registryError('docker-config-io', [path, ioMessage('write', e)], { where: path });
  }
  return path;
}
