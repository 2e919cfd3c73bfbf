import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { UserError, trustedCas, undici, type Undici } from '../common/index.js';
import { redacted, remoteMessages } from './messages.js';
import type { RemoteSettings } from './settings.js';

/**
 * The one module of remote/ that talks HTTP (undici): a GET that follows redirects, goes
 * through the configured proxy, and turns every network failure into one UserError line
 * naming the URL (DNS, refused, TLS, no data for too long).
 */
export interface HttpResult {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** The caller consumes or destroys it. */
  body: Readable;
}

const DEFAULT_IDLE_MS = 60_000;
const agents = new Map<string, Dispatcher>();

function dispatcherFor(s: RemoteSettings, { Agent, EnvHttpProxyAgent, interceptors }: Undici): Dispatcher {
  const key = JSON.stringify([s.proxy, s.extraCaFile ?? '', s.idleTimeoutMs ?? DEFAULT_IDLE_MS]);
  let d = agents.get(key);
  if (!d) {
    const idle = s.idleTimeoutMs ?? DEFAULT_IDLE_MS;
    const options = { connect: { timeout: 15_000, ca: trustedCas(s.extraCaFile) }, headersTimeout: idle, bodyTimeout: idle };
    // Each proxy value is given, '' meaning none: EnvHttpProxyAgent falls back to
    // process.env only for a value left undefined.
    const base = s.proxy.httpProxy || s.proxy.httpsProxy ? new EnvHttpProxyAgent({ ...options, ...s.proxy }) : new Agent(options);
    d = base.compose(interceptors.redirect({ maxRedirections: 10 }));
    agents.set(key, d);
  }
  return d;
}

/** GET `url`; a network failure is a UserError (the status, whatever it is, is the caller's). */
export async function httpGet(url: string, headers: Record<string, string>, s: RemoteSettings): Promise<HttpResult> {
  // Outside the try: a broken install is said as such, not as a network failure.
  const u = await undici();
  let res: Dispatcher.ResponseData;
  try {
    res = await u.request(url, { method: 'GET', headers: { 'user-agent': 'tsbuild', ...headers }, dispatcher: dispatcherFor(s, u) });
  } catch (e) {
    throw networkError(url, e, s);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return { status: res.statusCode, headers: out, body: res.body };
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|ERR_OSSL)/;

/** One line for a failed request or body read. */
export function networkError(url: string, e: unknown, s: RemoteSettings): UserError {
  if (e instanceof UserError) return e;
  const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = err.code ?? err.cause?.code ?? '';
  const causeCode = err.cause?.code ?? '';
  const where = redacted(url);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || causeCode === 'ENOTFOUND' || causeCode === 'EAI_AGAIN') {
    return new UserError('http-dns', remoteMessages['http-dns'](url, new URL(url).hostname), { where });
  }
  if (code === 'ECONNREFUSED' || causeCode === 'ECONNREFUSED') return new UserError('http-refused', remoteMessages['http-refused'](url), { where });
  if (TLS_CODES.test(code) || TLS_CODES.test(causeCode)) {
    return new UserError('http-tls', remoteMessages['http-tls'](url, err.cause?.message ?? err.message), {
      where,
      hint: 'trust its CA with NODE_EXTRA_CA_CERTS=FILE',
    });
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new UserError('http-timeout', remoteMessages['http-timeout'](url, Math.round((s.idleTimeoutMs ?? DEFAULT_IDLE_MS) / 1000)), { where });
  }
  return new UserError('http-failed', remoteMessages['http-failed'](url, code || err.message), { where });
}
