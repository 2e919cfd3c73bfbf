import { UserError } from '../common/index.js';
import { RegistryClient, type ClientOptions } from './client.js';
import { dockerConfigDir, storeCredentials } from './credentials.js';
import { registryError } from './messages.js';

/**
 * `login`: check the credentials against the registry first (`GET /v2/` with them: a
 * Basic registry must accept them, a token registry's realm must issue a token for them),
 * then record them in config.json as docker does. Returns the path written.
 */

export interface LoginOptions extends Omit<ClientOptions, 'credentials'> {
  /** `127.0.0.1:5000`, `docker.io`, or a URL such as `https://host/`. */
  registry: string;
  username: string;
  password: string;
}

/** `https://host:5000/v2/` → `host:5000`; Docker Hub's names → docker.io. */
export function registryDomain(input: string): string {
  const d = input.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  return d === 'index.docker.io' || d === 'registry-1.docker.io' ? 'docker.io' : d;
}

export async function login(opts: LoginOptions): Promise<string> {
  const domain = registryDomain(opts.registry);
  const host = domain === 'docker.io' ? 'registry-1.docker.io' : domain;
  const credentials = { username: opts.username, password: opts.password };
  const client = new RegistryClient(domain, host, { ...opts, credentials });
  try {
    const res = await client.request({ method: 'GET', path: '/v2/', scopes: [] });
    await res.dump();
    if (res.status === 401 || res.status === 403) throw registryError('login-failed', [domain], { where: domain });
  } catch (e) {
    if (e instanceof UserError && e.code === 'registry-unauthorized') throw registryError('login-failed', [domain], { where: domain });
    throw e;
  }
  return storeCredentials(dockerConfigDir(opts), domain, credentials);
}
