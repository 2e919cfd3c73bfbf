/**
 * `docker volume ls|inspect|rm|prune|create` over the store's named volumes; a volume a
 * container (running or not) lists in its mounts is in use, as Docker counts it.
 */
import { UserError } from '../common/index.js';
import { isValidVolumeName, type Store, type VolumeRecord } from '../store/index.js';
import type { CallOptions } from './images.js';
import { treeBytes } from './container-control.js';
import { openStoreOf } from './store-option.js';
import { settingsFromEnv } from './settings.js';

export const volumeMessages = {
  'no-such-volume': (name: string) => `get ${name}: no such volume`,
  'volume-in-use': (name: string, ids: string[]) => `remove ${name}: volume is in use - [${ids.join(', ')}]`,
  'bad-volume-name': (name: string) => `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`,
} satisfies Record<string, (...args: never[]) => string>;

async function storeOf(o: CallOptions): Promise<Store> {
  return openStoreOf(o.store, o.settings ?? settingsFromEnv(process.env));
}

async function users(store: Store): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const c of await store.containers.list())
    for (const m of c.mounts ?? []) if (m.type === 'volume') out.set(m.source!, [...(out.get(m.source!) ?? []), c.id]);
  return out;
}

export async function listVolumes(o: CallOptions): Promise<VolumeRecord[]> {
  return (await storeOf(o)).volumes.list();
}

export async function createVolume(o: CallOptions & { name: string }): Promise<VolumeRecord> {
  if (!isValidVolumeName(o.name)) throw new UserError('bad-volume-name', volumeMessages['bad-volume-name'](o.name), { where: o.name });
  return (await (await storeOf(o)).volumes.ensure(o.name)).volume;
}

export async function inspectVolume(o: CallOptions & { name: string }): Promise<VolumeRecord> {
  const v = await (await storeOf(o)).volumes.get(o.name);
  if (!v) throw new UserError('no-such-volume', volumeMessages['no-such-volume'](o.name), { where: o.name });
  return v;
}

/** `volume rm [-f]`: -f does not remove a volume in use either (Docker's), it only ignores a missing one. */
export async function removeVolume(o: CallOptions & { name: string; force?: boolean }): Promise<void> {
  const store = await storeOf(o);
  if (!(await store.volumes.get(o.name))) {
    if (o.force) return;
    throw new UserError('no-such-volume', volumeMessages['no-such-volume'](o.name), { where: o.name });
  }
  const ids = (await users(store)).get(o.name);
  if (ids) throw new UserError('volume-in-use', volumeMessages['volume-in-use'](o.name, ids), { where: o.name });
  await store.volumes.remove(o.name);
}

/** `volume prune`: every volume no container uses; their names and the bytes freed. */
export async function pruneVolumes(o: CallOptions): Promise<{ deleted: string[]; reclaimedBytes: number }> {
  const store = await storeOf(o);
  const used = await users(store);
  const deleted: string[] = [];
  let reclaimedBytes = 0;
  for (const v of await store.volumes.list()) {
    if (used.has(v.name)) continue;
    reclaimedBytes += await treeBytes(v.mountpoint);
    await store.volumes.remove(v.name);
    deleted.push(v.name);
  }
  return { deleted, reclaimedBytes };
}
