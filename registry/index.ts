/**
 * registry/: the OCI distribution client (undici): pull, push and login, with Docker's
 * auth (anonymous, Basic, Bearer tokens; credentials from ~/.docker/config.json), digest
 * checks on every manifest and blob before it is used or stored, retries with backoff and
 * resumed downloads; build cache records through a registry. It knows nothing of
 * Dockerfiles. It writes the store only through the Store interface: images (a pulled
 * config's exact bytes by commitImage), blobs, cache records and mounts, and its own small
 * records (records.ts, as `Store.records` of kinds `registry/…`).
 */
export { pullImage, type PullOptions } from './pull.js';
export { pushImage, type PushOptions, type PushResult } from './push.js';
export { login, registryDomain, type LoginOptions } from './login.js';
export { repoDigestsOf } from './records.js';
export { dockerConfigDir, findCredentials } from './credentials.js';
export type { RetryPolicy } from './retry.js';
export { messages as registryMessages } from './messages.js';
export type { ClientOptions } from './client.js';
export { exportCache, importCache, CACHE_CONFIG_MEDIA_TYPE, type CacheTransferOptions } from './cache-transfer.js';
