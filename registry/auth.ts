import type { Credentials } from './credentials.js';
import { httpRequest, type RequestTimeouts } from './http.js';
import { MAX_DOCUMENT_BYTES } from './limits.js';

/**
 * Registry authentication (distribution spec / Docker token auth): a 401 carries a
 * `WWW-Authenticate` challenge. `Basic` → send the stored credentials. `Bearer
 * realm=…,service=…,scope=…` → ask the realm for a token for the scopes we need (with
 * Basic credentials when we have them, anonymously otherwise) and send it as
 * `Authorization: Bearer`.
 */

export type Challenge =
  | { scheme: 'basic'; realm?: string }
  | { scheme: 'bearer'; realm: string; service?: string; scope?: string };

/** Parse one WWW-Authenticate header value; undefined when it names no scheme we speak. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (let p = re.exec(m[2]); p; p = re.exec(m[2])) {
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  }
  switch (m[1].toLowerCase()) {
    case 'basic':
      return { scheme: 'basic', realm: params.realm };
    case 'bearer':
      if (!params.realm) return undefined;
      return { scheme: 'bearer', realm: params.realm, service: params.service, scope: params.scope };
    default:
      return undefined;
  }
}

export function basicHeader(creds: Credentials): string {
  return 'Basic ' + Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
}

export type TokenResult = { ok: true; token: string } | { ok: false; status: number; detail: string };

/** Fetch a bearer token for `scopes` from the challenge's realm. */
export async function fetchToken(
  challenge: Extract<Challenge, { scheme: 'bearer' }>,
  scopes: string[],
  creds: Credentials | undefined,
  opts: { isTlsUnverified?: boolean; extraCaFile?: string; timeouts?: RequestTimeouts } = {},
): Promise<TokenResult> {
  const url = new URL(challenge.realm);
  if (challenge.service) url.searchParams.set('service', challenge.service);
  for (const s of scopes) url.searchParams.append('scope', s);
  if (creds) url.searchParams.set('account', creds.username);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (creds) headers.authorization = basicHeader(creds);
  const res = await httpRequest({ method: 'GET', url: url.toString(), headers, isTlsUnverified: opts.isTlsUnverified, extraCaFile: opts.extraCaFile, timeouts: opts.timeouts });
  const body = await res.bytes(MAX_DOCUMENT_BYTES);
  if (!body) return { ok: false, status: res.status, detail: `token response larger than ${MAX_DOCUMENT_BYTES >> 20} MiB` };
  if (res.status !== 200) return { ok: false, status: res.status, detail: body.toString('utf8').slice(0, 200).trim() };
  let parsed: { token?: unknown; access_token?: unknown };
  try {
    parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
  } catch {
    return { ok: false, status: res.status, detail: 'token response is not JSON' };
  }
  const token = typeof parsed.token === 'string' ? parsed.token : parsed.access_token;
  if (typeof token !== 'string' || token.length === 0) return { ok: false, status: res.status, detail: 'no token in response' };
  return { ok: true, token };
}

/** The scope string for repository access: `repository:library/debian:pull,push`. */
export function repositoryScope(repo: string, actions: ('pull' | 'push')[]): string {
  return `repository:${repo}:${actions.join(',')}`;
}
