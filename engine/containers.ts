import { rm } from 'node:fs/promises';
import { UserError } from '../common/index.js';
import { slirpSocket } from './run.js';
import { AmbiguousContainerError, isHelperAlive, normaliseName, type ContainerRecord, type ImageRecord, type Store } from '../store/index.js';
import type { CallOptions } from './images.js';
import { openStoreOf } from './store-option.js';
import { settingsFromEnv } from './settings.js';

export const containerMessages = {
  'no-such-container': (ref: string) => `No such container: ${ref}`,
  'ambiguous-container': (ref: string) => `multiple containers found with provided prefix: ${ref}`,
  'image-gone': (id: string) => `the container's image ${id} is no longer in the store`,
  'container-running': (name: string) =>
    `cannot remove container "/${name}": container is running: stop the container before removing or force remove`,
} satisfies Record<string, (...args: never[]) => string>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A container by id, unique id prefix or name, or Docker's message. */
export async function findContainer(store: Store, ref: string): Promise<ContainerRecord> {
  const c = await store.containers.find(ref).catch((e: unknown) => {
    if (e instanceof AmbiguousContainerError) throw new UserError('ambiguous-container', containerMessages['ambiguous-container'](ref), { where: ref });
    throw e;
  });
  if (!c) throw new UserError('no-such-container', containerMessages['no-such-container'](ref), { where: ref });
  return c;
}

/**
 * A new image from a container's changes: its upper dir as one more layer, `docker commit`.
 * A running container keeps writing: the layer is the upper dir as the walk finds it
 * (Docker pauses the container first; without a freezer cgroup we do not).
 */
export async function commit(o: CallOptions & { container: string; ref?: string; message?: string; author?: string }): Promise<ImageRecord> {
  const store = await openStoreOf(o.store, o.settings ?? settingsFromEnv(process.env));
  const c = await findContainer(store, o.container);
  const names = o.ref !== undefined ? [normaliseName(o.ref)] : [];
  const image = await store.resolveImage(c.image.id);
  if (!image) throw new UserError('image-gone', containerMessages['image-gone'](c.image.id), { where: o.container });
  const { snapshotDir, tarLayerDescriptor } = await import('../executor/index.js');
  const layer = await snapshotDir(store, store.containers.paths(c.id).upperDir, { kind: 'overlay-upper' });
  const created = new Date().toISOString();
  const history = [
    ...(image.config.history ?? []),
    {
      created,
      created_by: c.command.join(' '),
      ...(o.author ? { author: o.author } : {}),
      ...(o.message ? { comment: o.message } : {}),
      ...(layer ? {} : { empty_layer: true }),
    },
  ];
  const config = {
    ...image.config,
    created,
    rootfs: { type: 'layers' as const, diff_ids: layer ? [...image.config.rootfs.diff_ids, layer.diffId] : image.config.rootfs.diff_ids },
    history,
  };
  const layers = layer ? [...image.manifest.layers, tarLayerDescriptor(layer)] : image.manifest.layers;
  return store.writeImage({ config, layers, names });
}

/** Remove a container; a running one only with `force`, which kills it first: `docker rm`. */
export async function removeContainer(o: CallOptions & { container: string; force?: boolean }): Promise<void> {
  const store = await openStoreOf(o.store, o.settings ?? settingsFromEnv(process.env));
  const c = await findContainer(store, o.container);
  if (c.status.state === 'running') {
    if (!o.force) throw new UserError('container-running', containerMessages['container-running'](c.name), { where: o.container });
    // The helper's death takes the container with it (its pid 1 has PDEATHSIG=SIGKILL).
    try {
      process.kill(c.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    for (let i = 0; i < 100 && isHelperAlive(c); i++) await sleep(20);
  }
  await store.containers.remove(c);
  await rm(slirpSocket(c.id), { force: true });
}
