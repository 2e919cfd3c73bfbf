import type { Dispatcher } from 'undici';
import { Readable, Transform } from 'node:stream';
import { trustedCas, undici, type Undici } from '../common/index.js';
import { registryError } from './messages.js';

/**
 * The one module that talks HTTP (undici). Everything above it sees plain requests and
 * responses: a status, lower-case headers and a body stream that the caller consumes or
 * dumps. No redirects are followed here (the client decides what to do with them), no
 * retries, no auth.
 *
 * Every request is bounded in time twice (issue 16): an idle timeout (no byte for
 * `idleMs`: undici's header and body timeouts, transient) and a total deadline — the whole
 * request, body read included, may take `totalMs` plus one second for every
 * `minBytesPerSecond` bytes moved either way — past which it fails with `registry-too-slow`
 * (not retried: a server that drips one byte every few seconds resets any idle timeout).
 */

export interface RequestTimeouts {
  idleMs: number;
  totalMs: number;
  minBytesPerSecond: number;
}

/** 60 s for any request, longer only while bytes keep coming at 64 KiB/s or more. */
export const defaultTimeouts: RequestTimeouts = { idleMs: 60_000, totalMs: 60_000, minBytesPerSecond: 64 * 1024 };

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: Readable | Buffer | string;
  /** Accept any TLS certificate (an --insecure-registry reached over HTTPS). */
  isTlsUnverified?: boolean;
  /** CAs to trust besides Node's (NODE_EXTRA_CA_CERTS, from the settings). */
  extraCaFile?: string;
  timeouts?: RequestTimeouts;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Readable;
  /**
   * Read the whole (small) body: manifests, JSON errors, tokens; undefined when it is longer
   * than `limitBytes` (said by Content-Length, or found on the way: the body is then dropped
   * with at most `limitBytes` read).
   */
  bytes(limitBytes: number): Promise<Buffer | undefined>;
  /** Drop the body so the connection can be reused. */
  dump(): Promise<void>;
}

const agents = new Map<string, Dispatcher>();

function agentFor({ Agent }: Undici, isTlsUnverified: boolean, extraCaFile: string | undefined): Dispatcher {
  const key = `${isTlsUnverified ? 'insecure' : 'default'}\0${extraCaFile ?? ''}`;
  let agent = agents.get(key);
  if (!agent) {
    agent = new Agent({
      connect: { rejectUnauthorized: !isTlsUnverified, timeout: 15_000, ca: trustedCas(extraCaFile) },
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    });
    agents.set(key, agent);
  }
  return agent;
}

export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const limits = req.timeouts ?? defaultTimeouts;
  const deadline = new Deadline(req, limits);
  // Outside the try: a broken install is said as such, not as an unreachable registry.
  const u = await undici();
  let res: Dispatcher.ResponseData;
  try {
    res = await u.request(req.url, {
      method: req.method,
      headers: req.headers,
      body: deadline.counted(req.body),
      dispatcher: agentFor(u, req.isTlsUnverified === true, req.extraCaFile),
      signal: deadline.signal,
      headersTimeout: limits.idleMs,
      bodyTimeout: limits.idleMs,
    });
  } catch (e) {
    deadline.stop();
    throw deadline.error ?? e;
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (v === undefined) continue;
    headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  const raw = res.body;
  // Failures reach the caller through the watched body (or bytes/dump); one that comes
  // before the caller looks (the deadline passed) must not be an unhandled 'error' event.
  raw.on('error', () => {});
  let watched: Readable | undefined;
  const body = (): Readable => (watched ??= deadline.watch(raw));
  return {
    status: res.statusCode,
    headers,
    get body() {
      return body();
    },
    async bytes(limitBytes: number) {
      if (Number(headers['content-length'] ?? 0) > limitBytes) {
        deadline.stop();
        raw.destroy();
        return undefined;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body()) {
        size += (chunk as Buffer).length;
        if (size > limitBytes) {
          body().destroy();
          return undefined;
        }
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks);
    },
    async dump() {
      if (watched) {
        watched.destroy();
        return;
      }
      // undici reads a little (128 KiB) to keep the connection, else closes it
      await raw.dump().catch(() => {});
      deadline.stop();
    },
  };
}

/**
 * The total deadline of one request: `totalMs` from the start, extended by a second for
 * every `minBytesPerSecond` bytes sent or received. Checked by a timer that re-arms itself
 * for the time still allowed, so a fast transfer costs no timer work per chunk.
 */
class Deadline {
  private readonly controller = new AbortController();
  private readonly started = Date.now();
  private moved = 0;
  private timer: NodeJS.Timeout | undefined;
  private watched: Readable | undefined;
  /** Set once the deadline passed: the error every later failure of this request is. */
  error: Error | undefined;

  constructor(
    private readonly req: HttpRequest,
    private readonly limits: RequestTimeouts,
  ) {
    this.arm();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  private allowedMs(): number {
    return this.limits.totalMs + (this.moved / this.limits.minBytesPerSecond) * 1000;
  }

  private arm(): void {
    const left = this.started + this.allowedMs() - Date.now();
    this.timer = setTimeout(() => this.check(), Math.max(0, left) + 1);
    this.timer.unref();
  }

  private check(): void {
    if (Date.now() - this.started < this.allowedMs()) return this.arm();
    const url = new URL(this.req.url);
    this.error = registryError('registry-too-slow', [url.host, `${this.req.method} ${url.pathname}`, Math.round(this.allowedMs() / 1000)], {
      where: url.host,
      hint: 'the registry sends too slowly; TSBUILD_REGISTRY_TIMEOUT=SECONDS allows each request more time',
    });
    this.controller.abort(this.error);
    this.watched?.destroy(this.error);
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private counter(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.moved += chunk.length;
        cb(null, chunk);
      },
    });
  }

  /** The request body, counted as it is sent. */
  counted(body: HttpRequest['body']): HttpRequest['body'] {
    if (body === undefined) return undefined;
    if (!(body instanceof Readable)) {
      this.moved += Buffer.byteLength(body);
      return body;
    }
    const counting = this.counter();
    body.on('error', (e) => counting.destroy(e));
    return body.pipe(counting);
  }

  /** The response body, counted as it is read; the deadline ends with it. */
  watch(body: Readable): Readable {
    const out = this.counter();
    this.watched = out;
    if (body.destroyed) {
      process.nextTick(() => out.destroy(this.error ?? body.errored ?? new Error('the response body was closed')));
      return out;
    }
    body.on('error', (e) => out.destroy(this.error ?? e));
    out.on('close', () => {
      this.stop();
      if (!body.destroyed) body.destroy();
    });
    return body.pipe(out);
  }
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
