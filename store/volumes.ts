/**
 * Named volumes (`run -v NAME:/path`, `tsbuild volume …`): `<root>/volumes/<name>/_data`
 * is the data a container mounts, `volume.json` beside it when it was made. Which
 * containers use a volume is read from their records, never kept here.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';

export interface VolumeRecord {
  name: string;
  createdAt: string;
  /** The host dir a container mounts. */
  mountpoint: string;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function isValidVolumeName(name: string): boolean {
  return NAME_RE.test(name) && name.length <= 255;
}

function dir(root: string, name: string): string {
  return join(root, 'volumes', name);
}

export async function getVolume(root: string, name: string): Promise<VolumeRecord | undefined> {
  if (!isValidVolumeName(name)) return undefined; // `inspect a/../b` must not read outside volumes/
  const text = await readFile(join(dir(root, name), 'volume.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const meta = JSON.parse(text) as { createdAt: string };
  return { name, createdAt: meta.createdAt, mountpoint: join(dir(root, name), '_data') };
}

/** The volume, made (empty) when it does not exist yet; `created` says which. */
export async function ensureVolume(root: string, name: string): Promise<{ volume: VolumeRecord; created: boolean }> {
  const existing = await getVolume(root, name);
  if (existing) return { volume: existing, created: false };
  await mkdir(join(dir(root, name), '_data'), { recursive: true, mode: 0o755 });
  const createdAt = new Date().toISOString();
  await writeFileAtomic(join(dir(root, name), 'volume.json'), JSON.stringify({ createdAt }) + '\n');
  return { volume: { name, createdAt, mountpoint: join(dir(root, name), '_data') }, created: true };
}

export async function listVolumes(root: string): Promise<VolumeRecord[]> {
  const names = await readdir(join(root, 'volumes')).catch(() => [] as string[]);
  const out: VolumeRecord[] = [];
  for (const n of names.sort()) {
    const v = await getVolume(root, n);
    if (v) out.push(v);
  }
  return out;
}

export async function removeVolume(root: string, name: string): Promise<void> {
  await rm(dir(root, name), { recursive: true, force: true });
}
