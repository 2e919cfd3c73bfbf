import { bestPlatformMatch, digestOf, formatPlatform, hostPlatform, isDigest, parsePlatformSpec, type Digest } from '../common/index.js';
import { MediaType, type Descriptor, type ImageIndex, type Manifest, type Platform } from '../store/index.js';
import { repositoryScope } from './auth.js';
import { errorDetail, type RegistryClient } from './client.js';
import { MAX_DOCUMENT_BYTES } from './limits.js';
import { registryError } from './messages.js';

/**
 * Manifests from a registry: fetched by tag or digest with every media type we read in
 * Accept, digest-checked (the bytes, against the digest asked for or the one the registry
 * names), parsed, and — for a manifest list / OCI index — narrowed to one platform.
 */

export const MANIFEST_ACCEPT = [
  MediaType.manifest,
  MediaType.index,
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
].join(', ');

export type FetchedManifest =
  | { kind: 'manifest'; digest: Digest; bytes: Buffer; mediaType: string; manifest: Manifest }
  | { kind: 'index'; digest: Digest; bytes: Buffer; mediaType: string; index: ImageIndex };

/** GET a manifest; `name` is the familiar reference for messages. */
export async function fetchManifest(
  client: RegistryClient,
  repo: string,
  reference: string,
  name: string,
): Promise<FetchedManifest> {
  const res = await client.request({
    method: 'GET',
    path: `/v2/${repo}/manifests/${reference}`,
    headers: { accept: MANIFEST_ACCEPT },
    scopes: [repositoryScope(repo, ['pull'])],
  });
  if (res.status === 404) {
    await res.dump();
    throw registryError('manifest-unknown', [name], { where: name });
  }
  if (res.status !== 200) {
    const d = await errorDetail(res);
    if (d.code === 'MANIFEST_UNKNOWN' || d.code === 'NAME_UNKNOWN') throw registryError('manifest-unknown', [name], { where: name });
    throw registryError('registry-error', [client.domain, `manifest ${name}`, res.status, d.message], { where: name });
  }
  const bytes = await res.bytes(MAX_DOCUMENT_BYTES);
  if (!bytes) {
    const type = res.headers['content-type']?.split(';')[0].trim();
    const what = type === MediaType.index || type === MediaType.dockerManifestList ? 'index' : 'manifest';
    throw tooLarge(`${what} for ${name}`, name);
  }
  const digest = digestOf(bytes);
  // Registry data is trusted only after its digest checks out (issue 7, promise 7).
  const want = isDigest(reference) ? reference : res.headers['docker-content-digest'];
  if (want !== undefined && want !== digest) {
    throw registryError('digest-mismatch', [`manifest ${name}`, digest, want], { where: name });
  }
  return parseManifest(bytes, digest, res.headers['content-type'], name);
}

/** The error for a manifest, index or config past MAX_DOCUMENT_BYTES. */
export function tooLarge(what: string, name: string) {
  return registryError('document-too-large', [what, MAX_DOCUMENT_BYTES], {
    where: name,
    hint: 'manifests, indexes and image configs are read whole; Docker and containerd refuse them past 4 MiB too',
  });
}

export function parseManifest(bytes: Buffer, digest: Digest, contentType: string | undefined, name: string): FetchedManifest {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw registryError('invalid-manifest', [name, 'not JSON'], { where: name });
  }
  const mediaType = (typeof json.mediaType === 'string' ? json.mediaType : undefined) ?? contentType?.split(';')[0].trim() ?? '';
  const isIndex =
    mediaType === MediaType.index || mediaType === MediaType.dockerManifestList || (!json.config && Array.isArray(json.manifests));
  if (json.schemaVersion !== 2) throw registryError('unsupported-manifest', [name, mediaType || `schema ${String(json.schemaVersion)}`]);
  if (isIndex) {
    if (!Array.isArray(json.manifests)) throw registryError('invalid-manifest', [name, 'index without manifests'], { where: name });
    return { kind: 'index', digest, bytes, mediaType, index: json as unknown as ImageIndex };
  }
  const m = json as unknown as Manifest;
  if (!m.config || !Array.isArray(m.layers)) throw registryError('invalid-manifest', [name, 'no config or layers'], { where: name });
  for (const d of [m.config, ...m.layers]) {
    if (!isDigest(d.digest) || typeof d.size !== 'number' || d.size < 0) {
      throw registryError('invalid-manifest', [name, `bad descriptor ${JSON.stringify(d.digest)}`], { where: name });
    }
  }
  return { kind: 'manifest', digest, bytes, mediaType, manifest: m };
}

/** `linux/amd64`, `linux/arm64/v8` → a normalised Platform; default is the host's. */
export function parsePlatform(p: string | undefined): Platform {
  if (p === undefined || p === '') return hostPlatform();
  try {
    return parsePlatformSpec(p);
  } catch {
    throw registryError('invalid-platform', [p]);
  }
}

export { formatPlatform };

/** The index entry for `want`, chosen as containerd's platform matcher does (arm64 == arm64/v8; arm/v7 falls back to v6, v5). */
export function selectPlatform(index: ImageIndex, want: Platform, name: string): Descriptor {
  const chosen = bestPlatformMatch(index.manifests, want, (d) => d.platform);
  if (!chosen) {
    const available = index.manifests.filter((d) => d.platform).map((d) => formatPlatform(d.platform!));
    throw registryError('no-matching-platform', [name, formatPlatform(want), available.join(', ') || 'none'], { where: name });
  }
  return chosen;
}
