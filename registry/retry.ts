import { setTimeout as sleep } from 'node:timers/promises';
import { networkErrorCode } from './http.js';

/**
 * When and how long to wait before trying a registry request again: connection resets and
 * timeouts, 5xx (but 501, which will not change) and 429 are transient; 429/503 honour
 * Retry-After (seconds or an HTTP date), capped; otherwise exponential backoff with jitter.
 */
export interface RetryPolicy {
  /** Total tries, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 5, baseDelayMs: 300, maxDelayMs: 10_000 };

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_ABORTED',
]);

export function isTransientStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501);
}

export function isTransientError(err: unknown): boolean {
  const code = networkErrorCode(err);
  return code !== undefined && TRANSIENT_CODES.has(code);
}

/** Milliseconds to wait before try number `attempt + 1` (attempt counts from 1). */
export function retryDelayMs(policy: RetryPolicy, attempt: number, retryAfter?: string): number {
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
    if (Number.isFinite(ms) && ms >= 0) return Math.min(ms, policy.maxDelayMs * 3);
  }
  const exp = policy.baseDelayMs * 2 ** (attempt - 1);
  return Math.min(policy.maxDelayMs, exp * (0.75 + Math.random() * 0.5));
}

export async function waitBeforeRetry(policy: RetryPolicy, attempt: number, retryAfter?: string): Promise<void> {
  await sleep(retryDelayMs(policy, attempt, retryAfter));
}
