import { createReadStream } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { DigestHasher, UserError, isDigest, type Digest, type Platform } from '../common/index.js';
import type { ImageRecord, Store } from './contract.js';
import { publishFile } from './atomic.js';
import { commitImage } from './images.js';
import { cleanEntryName } from './layers.js';
import { decompressed } from './layer-stream.js';
import { MediaType, type Descriptor, type ImageConfig, type ImageIndex, type Manifest } from './oci-types.js';
import { normaliseName } from './reference.js';
import { readTar } from './tar-read.js';

/**
 * `tsbuild load`: a docker-archive (manifest.json, any Docker version) or an OCI image
 * layout tar, whose image indexes load whole (every child, then the index over them, as
 * pull keeps one). The archive is first unpacked into a private temp dir, every file hashed as it
 * lands; then every digest is checked (blob names, descriptors, diff_ids) before a single
 * byte enters the store, so a tampered archive is refused and leaves nothing behind. The
 * verified files are then moved (renamed) into blobs/. Config bytes are kept as they are,
 * so a loaded image keeps its id.
 */

export interface LoadedImage {
  /** The image id; of an image index, the store's index digest. */
  id: Digest;
  /** Full normalised names given to it (empty: an unnamed image). */
  names: string[];
}

interface Staged {
  path: string;
  digest: Digest;
  size: number;
}

function tampered(why: string): UserError {
  return new UserError('archive-tampered', `load: ${why}`, { hint: 'the archive is damaged or was modified; nothing was loaded' });
}

/** Unpack regular files of the archive into `dir`; symlinks are remembered (old Docker archives link duplicate layers). */
async function stage(src: Readable, dir: string): Promise<{ files: Map<string, Staged>; links: Map<string, string> }> {
  const files = new Map<string, Staged>();
  const links = new Map<string, string>();
  let n = 0;
  await readTar(src, async (e, body) => {
    const name = cleanEntryName(e.path);
    if (name === undefined) throw tampered(`archive entry "${e.path}" points outside the archive`);
    if (e.type === 'symlink') {
      const parent = name.includes('/') ? name.slice(0, name.lastIndexOf('/') + 1) : '';
      const target = cleanEntryName(e.linkTarget.startsWith('/') ? e.linkTarget : parent + e.linkTarget);
      if (target !== undefined) links.set(name, target);
      return;
    }
    if (e.type !== 'file') return;
    const path = join(dir, String(n++));
    const fh = await open(path, 'wx', 0o644);
    const hasher = new DigestHasher();
    try {
      for await (const chunk of body) {
        hasher.update(chunk);
        await fh.writeFile(chunk);
      }
    } finally {
      await fh.close();
    }
    files.set(name, { path, digest: hasher.digest(), size: hasher.sizeBytes });
  }, { what: 'load: the archive' });
  return { files, links };
}

class Archive {
  constructor(
    readonly files: Map<string, Staged>,
    readonly links: Map<string, string>,
  ) {}

  get(name: string): Staged | undefined {
    let n = cleanEntryName(name);
    for (let i = 0; i < 16 && n !== undefined; i++) {
      const f = this.files.get(n);
      if (f) return f;
      n = this.links.get(n);
    }
    return undefined;
  }

  need(name: string, what: string): Staged {
    const f = this.get(name);
    if (!f) throw tampered(`${what} "${name}" is missing from the archive`);
    return f;
  }

  async json<T>(f: Staged, what: string): Promise<T> {
    try {
      return JSON.parse(await readFile(f.path, 'utf8')) as T;
    } catch {
      throw tampered(`${what} is not valid JSON`);
    }
  }

  /** The blob `d` of an OCI layout, checked against its digest (and size). */
  blob(d: Descriptor, what: string): Staged {
    if (!isDigest(d.digest)) throw tampered(`${what} has an invalid digest "${d.digest}"`);
    const f = this.need(`blobs/sha256/${d.digest.slice(7)}`, what);
    if (f.digest !== d.digest) throw tampered(`${what} ${d.digest} does not match its content (${f.digest})`);
    if (d.size !== undefined && f.size !== d.size) throw tampered(`${what} ${d.digest} is ${f.size} bytes, its descriptor says ${d.size}`);
    return f;
  }
}

/** The digest of the uncompressed content of a staged layer file. */
async function diffIdOf(f: Staged): Promise<{ diffId: Digest; compressed: boolean }> {
  const { stream, compression } = await decompressed(createReadStream(f.path));
  if (compression === 'none') {
    stream.destroy();
    return { diffId: f.digest, compressed: false };
  }
  const h = new DigestHasher();
  for await (const chunk of stream) h.update(chunk as Buffer);
  return { diffId: h.digest(), compressed: true };
}

interface Plan {
  config: Staged;
  configJson: ImageConfig;
  layers: { file: Staged; desc: Descriptor }[];
  names: string[];
  /** The manifest's own annotations (an OCI layout's), kept so a save gives the same manifest again. */
  annotations?: Record<string, string>;
}

/** An image index of an OCI layout: its children (each with its platform), in its order. */
interface IndexPlan {
  digest: Digest;
  children: { plan: Plan; platform: Platform }[];
  names: string[];
}

async function planLayers(config: ImageConfig, files: Staged[], what: string): Promise<Plan['layers']> {
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== files.length) throw tampered(`${what}: ${files.length} layers but ${diffIds.length} diff_ids in its config`);
  const out: Plan['layers'] = [];
  for (let i = 0; i < files.length; i++) {
    const { diffId, compressed } = await diffIdOf(files[i]);
    if (diffId !== diffIds[i]) throw tampered(`${what}: layer ${i + 1} has content ${diffId}, its config says ${diffIds[i]}`);
    out.push({
      file: files[i],
      desc: { mediaType: compressed ? MediaType.layerGzip : MediaType.layerTar, digest: files[i].digest, size: files[i].size },
    });
  }
  return out;
}

/** docker-archive: manifest.json entries; names from RepoTags. */
async function planDocker(a: Archive): Promise<Plan[]> {
  const manifest = await a.json<{ Config: string; RepoTags?: string[] | null; Layers: string[] }[]>(a.need('manifest.json', 'manifest'), 'manifest.json');
  if (!Array.isArray(manifest)) throw tampered('manifest.json is not a list');
  const plans: Plan[] = [];
  for (const m of manifest) {
    const config = a.need(m.Config, 'image config');
    const named = /(?:^|\/)(?:blobs\/sha256\/)?([a-f0-9]{64})(?:\.json)?$/.exec(m.Config);
    if (named && `sha256:${named[1]}` !== config.digest) throw tampered(`config "${m.Config}" does not match its content (${config.digest})`);
    const configJson = await a.json<ImageConfig>(config, `config ${m.Config}`);
    const layerFiles = (m.Layers ?? []).map((l) => {
      const f = a.need(l, 'layer');
      const hex = /(?:^|\/)blobs\/sha256\/([a-f0-9]{64})$/.exec(l);
      if (hex && `sha256:${hex[1]}` !== f.digest) throw tampered(`layer "${l}" does not match its content (${f.digest})`);
      return f;
    });
    const layers = await planLayers(configJson, layerFiles, `image ${config.digest}`);
    plans.push({ config, configJson, layers, names: (m.RepoTags ?? []).map((t) => normaliseName(t)) });
  }
  return plans;
}

/**
 * The image name of an OCI index entry, as `docker load` reads it: `io.containerd.image.name`,
 * else `org.opencontainers.image.ref.name` when it is a whole reference (a bare tag names
 * no repository, so the image loads unnamed).
 */
function ociName(d: Descriptor): string | undefined {
  const full = d.annotations?.['io.containerd.image.name'];
  if (full) return normaliseName(full);
  const ref = d.annotations?.['org.opencontainers.image.ref.name'];
  if (ref && /[/:@]/.test(ref)) {
    try {
      return normaliseName(ref);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function goArch(): string {
  switch (process.arch) {
    case 'x64':
      return 'amd64';
    case 'ia32':
      return '386';
    default:
      return process.arch;
  }
}

/** One manifest of an OCI layout, checked: its config and layers (planned once per config). */
async function planManifest(a: Archive, manifest: Manifest, byConfig: Map<string, Plan>): Promise<Plan> {
  if (!manifest.config || !Array.isArray(manifest.layers)) throw tampered('a manifest has no config or layers');
  const config = a.blob(manifest.config, 'config');
  let plan = byConfig.get(config.digest);
  if (!plan) {
    const configJson = await a.json<ImageConfig>(config, `config ${config.digest}`);
    const files = manifest.layers.map((l) => a.blob(l, 'layer'));
    plan = { config, configJson, layers: await planLayers(configJson, files, `image ${config.digest}`), names: [] };
    if (manifest.annotations && Object.keys(manifest.annotations).length) plan.annotations = manifest.annotations;
    byConfig.set(config.digest, plan);
  }
  return plan;
}

/**
 * The children of an image index: each manifest with its platform (the descriptor's, else
 * its config's). Attestation manifests (platform unknown/unknown, as BuildKit writes them)
 * are not images and are left out, as pull does; an index inside an index is refused.
 */
async function planIndexChildren(a: Archive, index: ImageIndex, byConfig: Map<string, Plan>): Promise<IndexPlan['children']> {
  const children: IndexPlan['children'] = [];
  for (const d of index.manifests) {
    if (d.platform?.os === 'unknown') continue;
    const json = await a.json<Manifest & ImageIndex>(a.blob(d, 'manifest'), `manifest ${d.digest}`);
    if (Array.isArray(json.manifests)) throw new UserError('bad-archive', `load: image index ${d.digest} holds another index, which tsbuild does not load`);
    const plan = await planManifest(a, json, byConfig);
    const c = plan.configJson;
    const platform: Platform = d.platform ?? { os: c.os, architecture: c.architecture, ...(c.variant ? { variant: c.variant } : {}) };
    if (!platform.os || !platform.architecture) throw tampered(`manifest ${d.digest} of an image index names no platform`);
    children.push({ plan, platform });
  }
  if (children.length === 0) throw new UserError('bad-archive', 'load: an image index of the archive holds no image');
  return children;
}

async function planOci(a: Archive): Promise<{ images: Plan[]; indexes: IndexPlan[] }> {
  const index = await a.json<ImageIndex>(a.need('index.json', 'index'), 'index.json');
  const byConfig = new Map<string, Plan>();
  const images = new Set<Plan>();
  const indexes = new Map<string, IndexPlan>();
  for (const top of index.manifests ?? []) {
    const name = ociName(top);
    const json = await a.json<Manifest & ImageIndex>(a.blob(top, 'manifest'), `manifest ${top.digest}`);
    if (Array.isArray(json.manifests)) {
      let plan = indexes.get(top.digest);
      if (!plan) {
        plan = { digest: top.digest, children: await planIndexChildren(a, json, byConfig), names: [] };
        indexes.set(top.digest, plan);
      }
      if (name && !plan.names.includes(name)) plan.names.push(name);
      continue;
    }
    const plan = await planManifest(a, json, byConfig);
    images.add(plan);
    if (name && !plan.names.includes(name)) plan.names.push(name);
  }
  return { images: [...images], indexes: [...indexes.values()] };
}

/** Move a verified staged file into blobs/ (unless already there). */
async function store(s: Store, f: Staged): Promise<void> {
  if (await s.hasBlob(f.digest)) return;
  await publishFile(f.path, s.blobPath(f.digest));
}

/** One verified image into the store: its blobs moved in, then its manifest (named, or kept out of the index). */
async function commitPlan(s: Store, p: Plan, o: { names: string[]; isIndexed?: boolean }): Promise<ImageRecord> {
  for (const l of p.layers) await store(s, l.file);
  await store(s, p.config);
  return commitImage(s.root, {
    configDigest: p.config.digest,
    configSize: p.config.size,
    config: p.configJson,
    layers: p.layers.map((l) => l.desc),
    names: o.names,
    ...(p.annotations ? { annotations: p.annotations } : {}),
    ...(o.isIndexed === false ? { isIndexed: false } : {}),
  });
}

/**
 * An image index: its children as unnamed images, then the store's own index over their
 * manifests, in the archive's order, each with its platform (the same canonical index a
 * build of those children writes, so saving it again gives the archive's index again).
 */
async function commitIndex(s: Store, p: IndexPlan): Promise<LoadedImage> {
  const manifests: Descriptor[] = [];
  for (const c of p.children) {
    const rec = await commitPlan(s, c.plan, { names: [], isIndexed: false });
    const size = await s.blobSize(rec.manifestDigest);
    if (size === undefined) throw new Error(`[internal] manifest ${rec.manifestDigest} was not stored`);
    manifests.push({ mediaType: MediaType.manifest, digest: rec.manifestDigest, size, platform: c.platform });
  }
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.index, manifests };
  const written = await s.writeIndex({ index, names: p.names });
  return { id: written.digest, names: p.names };
}

/** Load every image of the archive `src` into the store. */
export async function loadArchive(s: Store, src: Readable): Promise<LoadedImage[]> {
  const dir = await s.makeTempDir('load');
  try {
    let staged: Awaited<ReturnType<typeof stage>>;
    try {
      staged = await stage(src, dir);
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError('bad-archive', `load: the input is not a readable tar archive (${(e as Error).message})`);
    }
    const a = new Archive(staged.files, staged.links);
    let plans: { images: Plan[]; indexes: IndexPlan[] };
    if (a.get('manifest.json')) plans = { images: await planDocker(a), indexes: [] };
    else if (a.get('index.json')) plans = await planOci(a);
    else throw new UserError('bad-archive', 'load: the archive has neither manifest.json nor index.json', { hint: 'is it an image archive made by `save`?' });
    if (plans.images.length === 0 && plans.indexes.length === 0) throw new UserError('bad-archive', 'load: the archive holds no image');
    const out: LoadedImage[] = [];
    for (const p of plans.images) {
      const rec = await commitPlan(s, p, { names: p.names });
      out.push({ id: rec.id, names: p.names });
    }
    for (const p of plans.indexes) out.push(await commitIndex(s, p));
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
