import { once } from 'node:events';
import { Writable } from 'node:stream';
import { DigestHasher, UserError } from '../common/index.js';
import type { Descriptor } from '../store/index.js';
import { repositoryScope } from './auth.js';
import { errorDetail, type RegistryClient } from './client.js';
import { networkErrorCode } from './http.js';
import { registryError } from './messages.js';
import { isTransientError, waitBeforeRetry } from './retry.js';

/**
 * Stream one blob from the registry into `sink`, never holding it in memory. A transfer
 * cut short (connection reset, early end) is resumed with `Range: bytes=N-`; a server
 * that ignores Range and sends the whole blob again has its first N bytes skipped, so the
 * sink sees every byte exactly once either way. The digest and size of the bytes are
 * checked before returning: a wrong byte throws and the caller discards the sink. A body
 * longer than the descriptor's size is refused — by its Content-Length before it is read,
 * else at the first byte past the size — and never reaches the sink.
 */
export async function downloadBlob(
  client: RegistryClient,
  repo: string,
  desc: Descriptor,
  sink: Writable,
  onBytes?: (received: number) => void,
): Promise<void> {
  const hasher = new DigestHasher();
  // A sink that fails (bad gzip, a full disk) stops taking bytes, but the rest is still
  // hashed: a wrong digest is the better diagnosis than the decompressor's complaint.
  let sinkError: unknown;
  const what = `blob ${desc.digest}`;
  for (let attempt = 1; ; attempt++) {
    const written = hasher.sizeBytes;
    const res = await client.request({
      method: 'GET',
      path: `/v2/${repo}/blobs/${desc.digest}`,
      headers: written > 0 ? { range: `bytes=${written}-` } : {},
      scopes: [repositoryScope(repo, ['pull'])],
    });
    if (res.status !== 200 && res.status !== 206) {
      const d = await errorDetail(res);
      throw registryError('registry-error', [client.domain, `${what} of ${repo}`, res.status, d.message], { where: desc.digest });
    }
    // A body announced longer than what is left of the blob is refused before it is read.
    const announced = Number(res.headers['content-length'] ?? NaN);
    if (announced > desc.size - (res.status === 206 ? written : 0)) {
      await res.dump();
      throw registryError('blob-too-long', [what, desc.size], { where: desc.digest });
    }
    let skip = 0;
    if (res.status === 206) {
      const start = Number(/bytes (\d+)-/.exec(res.headers['content-range'] ?? '')?.[1] ?? NaN);
      if (start !== written) {
        await res.dump();
        throw registryError('registry-error', [client.domain, `${what}: bad Content-Range`, 206, res.headers['content-range'] ?? ''], {
          where: desc.digest,
        });
      }
    } else {
      skip = written;
    }
    try {
      for await (const raw of res.body) {
        let chunk = raw as Buffer;
        if (skip > 0) {
          if (chunk.length <= skip) {
            skip -= chunk.length;
            continue;
          }
          chunk = chunk.subarray(skip);
          skip = 0;
        }
        if (hasher.sizeBytes + chunk.length > desc.size) {
          res.body.destroy();
          throw registryError('blob-too-long', [what, desc.size], { where: desc.digest });
        }
        hasher.update(chunk);
        onBytes?.(hasher.sizeBytes);
        if (sinkError === undefined) {
          try {
            if (!sink.write(chunk)) await once(sink, 'drain');
          } catch (e) {
            sinkError = e;
          }
          if (sink.errored) sinkError ??= sink.errored;
        }
      }
    } catch (e) {
      if (!isTransientError(e)) throw e;
      if (attempt >= client.retry.attempts) {
        throw registryError('registry-unreachable', [client.domain, `${what}: ${networkErrorCode(e)}`], { where: desc.digest });
      }
      await waitBeforeRetry(client.retry, attempt);
      continue;
    }
    if (hasher.sizeBytes < desc.size) {
      // The body ended early without an error: resume like after a reset.
      if (attempt >= client.retry.attempts) throw registryError('size-mismatch', [what, hasher.sizeBytes, desc.size], { where: desc.digest });
      await waitBeforeRetry(client.retry, attempt);
      continue;
    }
    break;
  }
  const got = hasher.digest();
  if (got !== desc.digest) throw registryError('digest-mismatch', [what, got, desc.digest], { where: desc.digest });
  if (sinkError !== undefined) {
    if (sinkError instanceof UserError) throw sinkError;
    throw registryError('layer-unpack-failed', [desc.digest, (sinkError as Error).message], { where: desc.digest });
  }
}

/** A small blob (a config) downloaded, verified, into memory. */
export async function downloadSmallBlob(client: RegistryClient, repo: string, desc: Descriptor): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const collect = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  await downloadBlob(client, repo, desc, collect);
  return Buffer.concat(chunks);
}
