import type { Readable } from 'node:stream';
import { UserError } from '../common/index.js';
import { basicHeader, fetchToken, parseChallenge, type Challenge } from './auth.js';
import { dockerConfigDir, findCredentials, type Credentials } from './credentials.js';
import { defaultTimeouts, httpRequest, networkErrorCode, type HttpRequest, type HttpResponse, type RequestTimeouts } from './http.js';
import { MAX_ERROR_BODY_BYTES } from './limits.js';
import { registryError } from './messages.js';
import { defaultRetryPolicy, isTransientError, isTransientStatus, waitBeforeRetry, type RetryPolicy } from './retry.js';

/**
 * One registry host as the client sees it: which scheme reaches it, which credentials and
 * tokens to send, and a `request()` that adds auth, retries transient failures with
 * backoff and follows redirects (blob storage often lives elsewhere; credentials are not
 * sent to another host).
 */

export interface ClientOptions {
  insecureRegistries?: string[];
  dockerConfigDir?: string;
  env?: NodeJS.ProcessEnv;
  retry?: RetryPolicy;
  /** Use these credentials instead of config.json (login checks new ones this way). */
  credentials?: Credentials;
  /** A PEM file of CAs to trust besides Node's (NODE_EXTRA_CA_CERTS). */
  extraCaFile?: string;
  /** Idle timeout and total deadline of each request (registry/http.ts); unset fields keep the defaults. */
  timeouts?: Partial<RequestTimeouts>;
}

export interface RegistryRequest {
  method: HttpRequest['method'];
  /** Path under the registry (`/v2/…`) or an absolute URL (upload locations). */
  path: string;
  headers?: Record<string, string>;
  /** Called once per try, so a retried upload re-reads its source. */
  body?: () => Readable | Buffer | string;
  /** Scopes the token must grant (`repository:x:pull`). */
  scopes: string[];
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** Host part of a `host:port` domain (IPv6 in brackets kept). */
function hostOnly(domain: string): string {
  if (domain.startsWith('[')) return domain.slice(0, domain.indexOf(']') + 1);
  const colon = domain.lastIndexOf(':');
  return colon > 0 ? domain.slice(0, colon) : domain;
}

export class RegistryClient {
  /** As the user names it: `docker.io`, `127.0.0.1:5000` (messages, credentials). */
  readonly domain: string;
  /** Where requests go: `registry-1.docker.io` for docker.io. */
  readonly host: string;
  private readonly opts: ClientOptions;
  readonly retry: RetryPolicy;
  readonly timeouts: RequestTimeouts;
  private base: { url: string; isTlsUnverified: boolean } | undefined;
  private challenge: Challenge | undefined;
  private creds: Credentials | undefined | null = null;
  private readonly tokens = new Map<string, string>();

  constructor(domain: string, host: string, opts: ClientOptions = {}) {
    this.domain = domain;
    this.host = host;
    this.opts = opts;
    this.retry = opts.retry ?? defaultRetryPolicy;
    this.timeouts = { ...defaultTimeouts, ...opts.timeouts };
    if (opts.credentials) this.creds = opts.credentials;
  }

  private async credentials(): Promise<Credentials | undefined> {
    if (this.creds === null) {
      this.creds = await findCredentials(dockerConfigDir(this.opts), this.domain);
    }
    return this.creds;
  }

  private candidates(): { url: string; isTlsUnverified: boolean }[] {
    const h = hostOnly(this.host);
    if (LOCAL_HOSTS.has(h)) return [{ url: `http://${this.host}`, isTlsUnverified: false }];
    const insecure = (this.opts.insecureRegistries ?? []).some((r) => r === this.domain || r === this.host || r === h);
    if (insecure) {
      return [
        { url: `https://${this.host}`, isTlsUnverified: true },
        { url: `http://${this.host}`, isTlsUnverified: false },
      ];
    }
    return [{ url: `https://${this.host}`, isTlsUnverified: false }];
  }

  /** Find a scheme that answers `GET /v2/` and remember the auth challenge it gives. */
  private async ping(): Promise<{ url: string; isTlsUnverified: boolean }> {
    if (this.base) return this.base;
    let lastCause = 'no answer';
    for (const candidate of this.candidates()) {
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await httpRequest({ method: 'GET', url: `${candidate.url}/v2/`, isTlsUnverified: candidate.isTlsUnverified, extraCaFile: this.opts.extraCaFile, timeouts: this.timeouts });
          await res.dump();
          if (isTransientStatus(res.status) && attempt < this.retry.attempts) {
            await waitBeforeRetry(this.retry, attempt, res.headers['retry-after']);
            continue;
          }
          if (res.status === 401) this.challenge = parseChallenge(res.headers['www-authenticate']);
          this.base = candidate;
          return candidate;
        } catch (e) {
          if (e instanceof UserError) throw e; // registry-too-slow
          lastCause = networkErrorCode(e) ?? (e as Error).message;
          if (isTransientError(e) && networkErrorCode(e) !== 'ECONNREFUSED' && attempt < this.retry.attempts) {
            await waitBeforeRetry(this.retry, attempt);
            continue;
          }
          break;
        }
      }
    }
    throw registryError('registry-unreachable', [this.domain, lastCause], {
      where: this.domain,
      hint: 'check the registry address and that it is running',
    });
  }

  private async authHeader(scopes: string[], isTlsUnverified: boolean): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    const creds = await this.credentials();
    switch (ch.scheme) {
      case 'basic':
        return creds ? basicHeader(creds) : undefined;
      case 'bearer': {
        const key = [...scopes].sort().join(' ');
        const cached = this.tokens.get(key);
        if (cached) return `Bearer ${cached}`;
        const res = await fetchToken(ch, scopes, creds, { isTlsUnverified, extraCaFile: this.opts.extraCaFile, timeouts: this.timeouts });
        if (!res.ok) {
          if (res.status === 401 || res.status === 403) throw this.unauthorized(creds !== undefined);
          throw registryError('registry-error', [this.domain, 'token request', res.status, res.detail], {
            where: this.domain,
          });
        }
        this.tokens.set(key, res.token);
        return `Bearer ${res.token}`;
      }
    }
  }

  /** The 401 a user sees: names the registry, hints at login. */
  unauthorized(hadCredentials: boolean): UserError {
    return registryError('registry-unauthorized', [this.domain], {
      where: this.domain,
      hint: hadCredentials
        ? `the stored credentials were refused: run 'tsbuild login ${this.domain}' again`
        : `run 'tsbuild login ${this.domain}' first`,
    });
  }

  /**
   * Send a request: auth added, transient failures (network, 5xx, 429) retried with
   * backoff, redirects followed. Any other status is returned for the caller to judge.
   */
  async request(req: RegistryRequest): Promise<HttpResponse> {
    const base = await this.ping();
    let url = /^https?:\/\//.test(req.path) ? req.path : `${base.url}${req.path}`;
    let isReauthed = false;
    let redirects = 0;
    for (let attempt = 1; ; attempt++) {
      const sameHost = new URL(url).host === new URL(base.url).host;
      const headers: Record<string, string> = { ...req.headers };
      const auth = sameHost ? await this.authHeader(req.scopes, base.isTlsUnverified) : undefined;
      if (auth) headers.authorization = auth;
      let res: HttpResponse;
      try {
        res = await httpRequest({ method: req.method, url, headers, body: req.body?.(), isTlsUnverified: base.isTlsUnverified, extraCaFile: this.opts.extraCaFile, timeouts: this.timeouts });
      } catch (e) {
        if (e instanceof UserError) throw e; // registry-too-slow
        if (isTransientError(e) && attempt < this.retry.attempts) {
          await waitBeforeRetry(this.retry, attempt);
          continue;
        }
        throw registryError('registry-unreachable', [this.domain, networkErrorCode(e) ?? (e as Error).message], {
          where: this.domain,
        });
      }
      if (res.status === 401 && sameHost) {
        await res.dump();
        const ch = parseChallenge(res.headers['www-authenticate']);
        const creds = await this.credentials();
        if (!isReauthed && ch && (ch.scheme === 'bearer' || creds)) {
          // A first 401 (or a token without the scope this call needs): answer the challenge.
          isReauthed = true;
          this.challenge = ch;
          this.tokens.clear();
          attempt--;
          continue;
        }
        throw this.unauthorized(creds !== undefined);
      }
      if (isTransientStatus(res.status) && attempt < this.retry.attempts) {
        await res.dump();
        await waitBeforeRetry(this.retry, attempt, res.headers['retry-after']);
        continue;
      }
      if ([301, 302, 303, 307, 308].includes(res.status) && res.headers.location && redirects < 5) {
        await res.dump();
        url = new URL(res.headers.location, url).toString();
        redirects++;
        attempt--;
        continue;
      }
      return res;
    }
  }

  /** The URL base (`http://127.0.0.1:5000`) once the registry answered. */
  async baseUrl(): Promise<string> {
    return (await this.ping()).url;
  }
}

/** A short detail from a registry error body (`{"errors":[{"code","message"}]}`). */
export async function errorDetail(res: HttpResponse): Promise<{ code?: string; message: string }> {
  const body = await res.bytes(MAX_ERROR_BODY_BYTES).catch(() => Buffer.alloc(0));
  if (!body) return { message: `(an error body of more than ${MAX_ERROR_BODY_BYTES >> 10} KiB)` };
  const text = body.toString('utf8');
  try {
    const parsed = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const first = parsed.errors?.[0];
    if (first) return { code: first.code, message: [first.code?.toLowerCase(), first.message].filter(Boolean).join(': ') };
  } catch {
    // Not JSON: the text itself is the best we have.
  }
  return { message: text.slice(0, 200).trim() };
}
