import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, compareCodeUnits, ioMessage, isDigest, type Digest } from '../common/index.js';
import { writeFileAtomic } from './atomic.js';
import { withLock } from './lock.js';
import { MediaType, type Descriptor, type ImageIndex } from './oci-types.js';

/**
 * `<root>/oci/index.json`: the refs of the OCI layout. One manifest descriptor per name,
 * annotated `org.opencontainers.image.ref.name` = the full normalised name (what skopeo
 * looks up in `oci:<root>/oci:<name>`); an image without names keeps one descriptor
 * annotated `io.tsbuild.untagged` so `<none>` images stay listed (and alive for gc).
 * Updates are read-modify-write under the `index` lock, written atomically.
 */

export const REF_NAME = 'org.opencontainers.image.ref.name';
export const UNTAGGED = 'io.tsbuild.untagged';
/** The image id (config digest) on each entry, so listing needs no manifest read to group. */
export const IMAGE_ID = 'io.tsbuild.image.id';

export interface IndexEntry {
  manifestDigest: Digest;
  manifestSize: number;
  imageId: Digest;
  /** The full normalised name, or undefined for the untagged entry. */
  name: string | undefined;
  /** The entry is an image index (a multi-platform image): `manifestDigest` is the index's, and so is `imageId`. */
  isIndex?: boolean;
}

export function ociDir(root: string): string {
  return join(root, 'oci');
}

function indexPath(root: string): string {
  return join(ociDir(root), 'index.json');
}

/** Create `oci-layout` and an empty `index.json` if missing (idempotent). */
export async function initLayout(root: string): Promise<void> {
  const layout = join(ociDir(root), 'oci-layout');
  if (existsSync(layout) && existsSync(indexPath(root))) return;
  mkdirSync(join(ociDir(root), 'blobs', 'sha256'), { recursive: true });
  if (!existsSync(layout)) await writeFileAtomic(layout, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  if (existsSync(indexPath(root))) return;
  await withLock(root, 'index', async () => {
    if (!existsSync(indexPath(root))) await writeEntries(root, []);
  });
}

/** The entries of index.json (descriptors that are not ours are skipped). */
export async function readEntries(root: string): Promise<IndexEntry[]> {
  let text: string;
  try {
    text = readFileSync(indexPath(root), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UserError('store-io', ioMessage('store: read oci/index.json', e));
  }
  let index: ImageIndex;
  try {
    index = JSON.parse(text) as ImageIndex;
  } catch {
    throw new UserError('store-corrupt', 'store: oci/index.json is not valid JSON', { where: indexPath(root), hint: 'run `tsbuild fsck`' });
  }
  const out: IndexEntry[] = [];
  for (const d of index.manifests ?? []) {
    const id = d.annotations?.[IMAGE_ID];
    if (!id || !isDigest(id) || !isDigest(d.digest)) continue;
    out.push({ manifestDigest: d.digest, manifestSize: d.size, imageId: id, name: d.annotations?.[REF_NAME], ...(d.mediaType === MediaType.index ? { isIndex: true } : {}) });
  }
  return out;
}

function toDescriptor(e: IndexEntry): Descriptor {
  const annotations: Record<string, string> = { [IMAGE_ID]: e.imageId };
  if (e.name !== undefined) annotations[REF_NAME] = e.name;
  else annotations[UNTAGGED] = 'true';
  return { mediaType: e.isIndex ? MediaType.index : MediaType.manifest, digest: e.manifestDigest, size: e.manifestSize, annotations };
}

async function writeEntries(root: string, entries: IndexEntry[]): Promise<void> {
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.index, manifests: entries.map(toDescriptor) };
  await writeFileAtomic(indexPath(root), JSON.stringify(index, null, 2) + '\n');
}

/**
 * Read-modify-write index.json under the lock. `edit` returns the new entries; then every
 * image keeps at least one entry (an image that lost its last name is dropped only when
 * `edit` dropped all its entries itself), and each name appears once.
 */
export async function updateEntries<T>(root: string, edit: (entries: IndexEntry[]) => { entries: IndexEntry[]; result: T }): Promise<T> {
  return withLock(root, 'index', async () => {
    const { entries, result } = edit(await readEntries(root));
    await writeEntries(root, normalise(entries));
    return result;
  });
}

/** One entry per name (last wins); an untagged entry only for images with no named entry. */
function normalise(entries: IndexEntry[]): IndexEntry[] {
  const byName = new Map<string, IndexEntry>();
  const named = new Set<string>();
  for (const e of entries) if (e.name !== undefined) byName.set(e.name, e);
  for (const e of byName.values()) named.add(e.imageId);
  const untagged = new Map<string, IndexEntry>();
  for (const e of entries) if (e.name === undefined && !named.has(e.imageId)) untagged.set(e.imageId, e);
  return [...byName.values(), ...untagged.values()].sort((a, b) =>
    compareCodeUnits(a.name ?? '\uffff' + a.imageId, b.name ?? '\uffff' + b.imageId),
  );
}
