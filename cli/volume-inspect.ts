import type { VolumeRecord } from '../store/index.js';

/** A volume as `docker volume inspect` (and `docker inspect --type volume`) prints it. */
export function volumeJson(v: VolumeRecord): Record<string, unknown> {
  return { CreatedAt: v.createdAt, Driver: 'local', Labels: null, Mountpoint: v.mountpoint, Name: v.name, Options: null, Scope: 'local' };
}
