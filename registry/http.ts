import { Agent, request, type Dispatcher } from 'undici';
import type { Readable } from 'node:stream';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

/**
 * The one module that talks HTTP (undici). Everything above it sees plain requests and
 * responses: a status, lower-case headers and a body stream that the caller consumes or
 * dumps. No redirects are followed here (the client decides what to do with them), no
 * retries, no auth.
 */

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: Readable | Buffer | string;
  /** Accept any TLS certificate (an --insecure-registry reached over HTTPS). */
  isTlsUnverified?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Readable;
  /** Read the whole (small) body: manifests, JSON errors, tokens. */
  bytes(): Promise<Buffer>;
  /** Drop the body so the connection can be reused. */
  dump(): Promise<void>;
}

const agents = new Map<string, Dispatcher>();

/**
 * The CAs to trust: Node's, plus NODE_EXTRA_CA_CERTS. tsbuild's launcher (cli/launch.ts)
 * keeps Node from reading that file at every start, so it is read here, when TLS is used.
 * (Also when Node did read it: a CA given twice is harmless.)
 */
function trustedCas(env: NodeJS.ProcessEnv): string[] | undefined {
  const file = env.NODE_EXTRA_CA_CERTS;
  if (!file) return undefined;
  try {
    return [...rootCertificates, readFileSync(file, 'utf8')];
  } catch (e) {
    process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    return undefined;
  }
}

function agentFor(isTlsUnverified: boolean): Dispatcher {
  const key = isTlsUnverified ? 'insecure' : 'default';
  let agent = agents.get(key);
  if (!agent) {
    agent = new Agent({
      connect: { rejectUnauthorized: !isTlsUnverified, timeout: 15_000, ca: trustedCas(process.env) },
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    });
    agents.set(key, agent);
  }
  return agent;
}

export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const res = await request(req.url, {
    method: req.method,
    headers: req.headers,
    body: req.body,
    dispatcher: agentFor(req.isTlsUnverified === true),
  });
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (v === undefined) continue;
    headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  const body = res.body;
  return {
    status: res.statusCode,
    headers,
    body,
    async bytes() {
      return Buffer.from(await body.arrayBuffer());
    },
    async dump() {
      await body.dump().catch(() => {});
    },
  };
}

/** The errno-like code of a network failure (ECONNRESET, UND_ERR_SOCKET …), if any. */
export function networkErrorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
