import { chmod, copyFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UserError, digestOf, lazyBuiltin, type Digest } from '../common/index.js';
import type { Store } from '../store/index.js';
import { httpGet, networkError, type HttpResult } from './http-client.js';
import { redacted, remoteMessages } from './messages.js';
import type { RemoteSettings } from './settings.js';
import type { HttpSource } from './source.js';

const http = /* @__PURE__ */ lazyBuiltin<typeof import('node:http')>('node:http');

/** An HTTP source with its content known: the digest is the cache key's part. */
export interface ResolvedHttp {
  kind: 'http';
  url: string;
  filename: string;
  digest: Digest;
  /** Last-Modified, when the server said (the file's mtime, and part of the key as in BuildKit). */
  lastModified?: string;
  /** `--checksum`: the digest was given, not fetched. */
  isPinned: boolean;
}

/** What the last fetch of a URL found, for the conditional request of the next build. */
interface HttpMemo {
  url: string;
  digest: Digest;
  etag?: string;
  lastModified?: string;
}

const MEMO = 'http-source';
// BuildKit's source/http/source.go writes the file 0600 unless the op says otherwise.
const FILE_MODE = 0o600;

/**
 * The content digest of `src`. With `--checksum`, that is the answer and nothing is asked
 * (BuildKit's resolveMetadataStatic). Otherwise a GET, conditional on the ETag and
 * Last-Modified of the last fetch (source/http/source.go): 304 keeps the digest it found
 * then; a new body is streamed into the store as a blob, hashed on the way.
 */
export async function resolveHttp(store: Store, src: HttpSource, checksum: string | undefined, s: RemoteSettings): Promise<ResolvedHttp> {
  if (checksum !== undefined) return { kind: 'http', url: src.url, filename: src.filename, digest: parseChecksum(checksum), isPinned: true };
  const memoKey = digestOf(src.url);
  const memo = await store.memos.read<HttpMemo>(MEMO, memoKey);
  const headers: Record<string, string> = {};
  if (memo?.etag) headers['if-none-match'] = memo.etag;
  if (memo?.lastModified) headers['if-modified-since'] = memo.lastModified;
  const res = await httpGet(src.url, headers, s);
  if (res.status === 304 && memo) {
    res.body.resume();
    return { kind: 'http', url: src.url, filename: src.filename, digest: memo.digest, isPinned: false, ...lastModifiedOf(memo.lastModified) };
  }
  const digest = await download(store, src.url, res, s);
  const lastModified = res.headers['last-modified'];
  await store.memos.write(MEMO, memoKey, { url: src.url, digest, etag: res.headers.etag, lastModified } satisfies HttpMemo);
  return { kind: 'http', url: src.url, filename: src.filename, digest, isPinned: false, ...lastModifiedOf(lastModified) };
}

/**
 * The file in `dir` as ADD copies it: named `filename`, mode 0600, mtime Last-Modified. Its
 * bytes come from the store when a fetch left them there, else from a new GET, which must
 * give the digest the key was made of (the `--checksum` one, or what planning fetched).
 */
export async function materialiseHttp(store: Store, r: ResolvedHttp, dir: string, s: RemoteSettings): Promise<string> {
  let lastModified = r.lastModified;
  if (!(await store.hasBlob(r.digest))) {
    const res = await httpGet(r.url, {}, s);
    const got = await download(store, r.url, res, s);
    if (got !== r.digest) throw new UserError('http-digest-mismatch', remoteMessages['http-digest-mismatch'](r.url, got, r.digest), { where: redacted(r.url) });
    lastModified = res.headers['last-modified'];
    await store.memos.write(MEMO, digestOf(r.url), { url: r.url, digest: got, etag: res.headers.etag, lastModified } satisfies HttpMemo);
  } else if (r.isPinned && lastModified === undefined) {
    const memo = await store.memos.read<HttpMemo>(MEMO, digestOf(r.url));
    if (memo?.digest === r.digest) lastModified = memo.lastModified;
  }
  const path = join(dir, r.filename);
  await copyFile(store.blobPath(r.digest), path);
  await chmod(path, FILE_MODE);
  const mtime = lastModifiedOf(lastModified).lastModified;
  if (mtime !== undefined) await utimes(path, new Date(Date.parse(mtime)), new Date(Date.parse(mtime)));
  return r.filename;
}

/** A 2xx body into the store; any other status is the error naming the URL. */
async function download(store: Store, url: string, res: HttpResult, s: RemoteSettings): Promise<Digest> {
  if (res.status < 200 || res.status > 299) {
    res.body.resume();
    throw new UserError('http-status', remoteMessages['http-status'](url, res.status, http().STATUS_CODES[res.status] ?? ''), { where: redacted(url) });
  }
  const writer = store.blobWriter();
  try {
    await pipeline(res.body, writer.stream);
  } catch (e) {
    await writer.abort();
    throw networkError(url, e, s);
  }
  return (await writer.commit()).digest;
}

/** `sha256:<hex>` as BuildKit's digest.Parse takes it (the one algorithm the store hashes with). */
function parseChecksum(value: string): Digest {
  if (!/^sha256:[0-9a-f]{64}$/.test(value)) throw new UserError('http-bad-checksum', remoteMessages['http-bad-checksum'](value));
  return value as Digest;
}

/** A Last-Modified that parses as an HTTP date, kept as the server wrote it. */
function lastModifiedOf(value: string | undefined): { lastModified?: string } {
  return value !== undefined && !Number.isNaN(Date.parse(value)) ? { lastModified: value } : {};
}
