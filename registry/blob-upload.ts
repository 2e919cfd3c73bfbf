import { once } from 'node:events';
import { PassThrough, Readable, Transform } from 'node:stream';
import type { Digest } from '../common/index.js';
import { repositoryScope } from './auth.js';
import { errorDetail, type RegistryClient } from './client.js';
import { registryError } from './messages.js';
import { isTransientError, waitBeforeRetry } from './retry.js';

/**
 * Blob uploads (distribution spec "pushing blobs"): HEAD to see whether the registry has
 * it, a cross-repository mount when another repository of the same registry has it,
 * otherwise POST an upload session and send the bytes in one PUT (monolithic) or in
 * PATCH chunks then a closing PUT. A failed transfer starts a fresh session. A blob still
 * being made (a layer being compressed) goes as one streamed PATCH while it is made, then the
 * closing PUT with the digest, which the registry needs only there (the spec's "chunked
 * upload"; docker push streams the same way).
 */

export async function blobExists(client: RegistryClient, repo: string, digest: Digest): Promise<boolean> {
  const res = await client.request({
    method: 'HEAD',
    path: `/v2/${repo}/blobs/${digest}`,
    scopes: [repositoryScope(repo, ['pull', 'push'])],
  });
  await res.dump();
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  throw registryError('registry-error', [client.domain, `HEAD blob ${digest} in ${repo}`, res.status, ''], { where: digest });
}

/** Ask the registry to link `digest` from `fromRepo` into `repo`; true when it did. */
export async function mountBlob(client: RegistryClient, repo: string, digest: Digest, fromRepo: string): Promise<boolean> {
  const res = await client.request({
    method: 'POST',
    path: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromRepo)}`,
    headers: { 'content-length': '0' },
    scopes: [repositoryScope(repo, ['pull', 'push']), repositoryScope(fromRepo, ['pull'])],
  });
  await res.dump();
  // 202 means the registry opened an ordinary upload instead; it expires unused.
  return res.status === 201;
}

export interface UploadSource {
  /** The blob's bytes from the start; a layer kept only as its dir is made again as it is read. */
  open: () => Readable;
  digest: Digest;
  size: number;
}

/** Bytes `start`..`end` (inclusive) of what `open()` gives: a chunk of a blob that may have no file. */
function byteRange(open: () => Readable, start: number, end: number): Readable {
  let at = 0;
  const cut = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (at > end) return done();
      const from = Math.max(0, start - at);
      const to = Math.min(chunk.length, end + 1 - at);
      at += chunk.length;
      if (to > from) this.push(chunk.subarray(from, to));
      if (at > end) {
        this.push(null);
        source.destroy();
      }
      done();
    },
  });
  const source = open();
  source.on('error', (e) => cut.destroy(e));
  return source.pipe(cut);
}

/** Upload a blob from a file; chunked when `chunkSizeBytes` is set and smaller than the blob. */
export async function uploadBlob(
  client: RegistryClient,
  repo: string,
  src: UploadSource,
  opts: { chunkSizeBytes?: number } = {},
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const location = await startUpload(client, repo);
      const chunk = opts.chunkSizeBytes;
      if (chunk !== undefined && chunk > 0 && src.size > chunk) await sendChunked(client, repo, location, src, chunk);
      else await sendMonolithic(client, repo, location, src);
      return;
    } catch (e) {
      if (!isTransientError(e) || attempt >= client.retry.attempts) throw e;
      await waitBeforeRetry(client.retry, attempt);
    }
  }
}

async function startUpload(client: RegistryClient, repo: string): Promise<string> {
  const res = await client.request({
    method: 'POST',
    path: `/v2/${repo}/blobs/uploads/`,
    headers: { 'content-length': '0' },
    scopes: [repositoryScope(repo, ['pull', 'push'])],
  });
  if (res.status !== 202 || !res.headers.location) {
    const d = await errorDetail(res);
    throw registryError('registry-error', [client.domain, `start upload to ${repo}`, res.status, d.message], { where: repo });
  }
  await res.dump();
  return new URL(res.headers.location, await client.baseUrl()).toString();
}

function withDigest(location: string, digest: Digest): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}

async function sendMonolithic(client: RegistryClient, repo: string, location: string, src: UploadSource): Promise<void> {
  const res = await client.request({
    method: 'PUT',
    path: withDigest(location, src.digest),
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(src.size) },
    body: src.open,
    scopes: [repositoryScope(repo, ['pull', 'push'])],
  });
  await expectCreated(client, res, repo, src.digest);
}

async function sendChunked(client: RegistryClient, repo: string, location: string, src: UploadSource, chunk: number): Promise<void> {
  let url = location;
  for (let start = 0; start < src.size; start += chunk) {
    const end = Math.min(src.size, start + chunk) - 1;
    const res = await client.request({
      method: 'PATCH',
      path: url,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(end - start + 1),
        'content-range': `${start}-${end}`,
      },
      body: () => byteRange(src.open, start, end),
      scopes: [repositoryScope(repo, ['pull', 'push'])],
    });
    if (res.status !== 202) {
      const d = await errorDetail(res);
      throw registryError('registry-error', [client.domain, `upload chunk of ${src.digest}`, res.status, d.message], { where: src.digest });
    }
    await res.dump();
    if (res.headers.location) url = new URL(res.headers.location, url).toString();
  }
  const res = await client.request({
    method: 'PUT',
    path: withDigest(url, src.digest),
    headers: { 'content-length': '0' },
    scopes: [repositoryScope(repo, ['pull', 'push'])],
  });
  await expectCreated(client, res, repo, src.digest);
}

async function expectCreated(
  client: RegistryClient,
  res: Awaited<ReturnType<RegistryClient['request']>>,
  repo: string,
  digest: Digest,
): Promise<void> {
  if (res.status === 201) {
    await res.dump();
    return;
  }
  const d = await errorDetail(res);
  throw registryError('registry-error', [client.domain, `upload ${digest} to ${repo}`, res.status, d.message], { where: digest });
}

/**
 * Send a blob while `make` produces it: `make` gets `send` for each chunk in order (it
 * resolves when the chunk is taken, and never throws) and returns the blob's digest once all
 * are made. Returns that digest and whether the registry now holds the blob; false after any
 * failure of the upload (the caller sends the blob again the ordinary way, with retries). A
 * failure of `make` is thrown; the upload session is then left to expire.
 */
export async function uploadWhileMade(
  client: RegistryClient,
  repo: string,
  make: (send: (chunk: Buffer) => Promise<void>) => Promise<Digest>,
): Promise<{ digest: Digest; isUploaded: boolean }> {
  let location: string | undefined;
  try {
    location = await startUpload(client, repo);
  } catch {
    location = undefined;
  }
  if (location === undefined) return { digest: await make(async () => {}), isUploaded: false };
  const body = new PassThrough();
  let isOpened = false;
  const patch = client
    .request({
      method: 'PATCH',
      path: location,
      headers: { 'content-type': 'application/octet-stream' },
      // A retry cannot send a stream again: it fails at once, and the caller starts over.
      body: () => {
        if (isOpened) throw new Error('a streamed blob cannot be sent twice');
        isOpened = true;
        return body;
      },
      scopes: [repositoryScope(repo, ['pull', 'push'])],
    })
    .then(
      (res) => ({ res, error: undefined }),
      (error: unknown) => ({ res: undefined, error }),
    );
  let isFailed = false;
  void patch.then((r) => {
    if (r.error !== undefined || r.res?.status !== 202) {
      isFailed = true;
      body.destroy();
    }
  });
  let sentBytes = 0;
  const send = async (chunk: Buffer): Promise<void> => {
    if (isFailed || body.destroyed) return;
    sentBytes += chunk.length;
    if (body.write(chunk)) return;
    await Promise.race([once(body, 'drain').catch(() => undefined), patch]);
  };
  let digest: Digest;
  try {
    digest = await make(send);
  } catch (e) {
    // With its error: a body closed without one leaves the request waiting for the idle timeout.
    body.destroy(e instanceof Error ? e : new Error(String(e)));
    const r = await patch;
    await r.res?.dump().catch(() => undefined);
    throw e;
  }
  body.end();
  const r = await patch;
  // Nothing sent: `make` found the blob made before; the caller sends it the ordinary way.
  if (isFailed || sentBytes === 0 || !r.res || r.res.status !== 202) {
    await r.res?.dump().catch(() => undefined);
    return { digest, isUploaded: false };
  }
  await r.res.dump();
  const url = r.res.headers.location ? new URL(r.res.headers.location, location).toString() : location;
  try {
    const res = await client.request({
      method: 'PUT',
      path: withDigest(url, digest),
      headers: { 'content-length': '0' },
      scopes: [repositoryScope(repo, ['pull', 'push'])],
    });
    if (res.status !== 201) {
      await res.dump();
      return { digest, isUploaded: false };
    }
    await res.dump();
    return { digest, isUploaded: true };
  } catch {
    return { digest, isUploaded: false };
  }
}
