import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
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
  'enter-running': (id: string) => `container ${id} is running: run --from-container enters a stopped container`,
  'enter-unsupported': (id: string) =>
    `container ${id} was not kept by a failed build: run --from-container enters the containers \`build --on-error=keep\` leaves (not supported for others yet)`,
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
  const { containerLayer, tarLayerDescriptor } = await import('../executor/index.js');
  const layer = await containerLayer(store, store.containers.paths(c.id).upperDir);
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

/** What `run --from-container` takes: a stopped container to run a new command in. */
export interface EnterOptions extends CallOptions {
  container: string;
  /** Default the container's command. */
  command?: string[];
  tty?: boolean;
  interactive?: boolean;
  /** SIGINT/SIGTERM/SIGHUP sent to this process go to the command (the CLI in the foreground). */
  forwardSignals?: boolean;
}

/**
 * Run a command in a stopped container's own rootfs (its upper dir over its lower dirs),
 * with its environment, user, working dir and mounts, on the caller's stdio; what it
 * changes stays in the container. Resolves with its exit code (128+N: killed by signal N).
 */
export async function enterContainer(o: EnterOptions): Promise<number> {
  const settings = o.settings ?? settingsFromEnv(process.env);
  const store = await openStoreOf(o.store, settings);
  const c = await findContainer(store, o.container);
  if (c.status.state === 'running') throw new UserError('container-running', containerMessages['enter-running'](c.id.slice(0, 12)), { where: o.container, exitCode: 125 });
  if (!c.process) throw new UserError('not-supported', containerMessages['enter-unsupported'](c.id.slice(0, 12)), { where: o.container, exitCode: 125 });
  const ex = await import('../executor/index.js');
  const paths = store.containers.paths(c.id, c.name);
  const result = await ex.runContainer(
    {
      rootfs: await ex.containerRootfs({ lowerDirs: c.lowerDirs.length ? c.lowerDirs : [await emptyDir(paths.dir)], upperDir: paths.upperDir, workDir: paths.workDir }),
      mountPoint: paths.mountPoint,
      etcDir: paths.etcDir,
      dieWithParent: true,
      argv: o.command?.length ? o.command : c.command,
      env: c.process.env,
      cwd: c.process.cwd,
      user: c.process.user,
      hostname: c.process.hostname,
      network: 'private',
      nat: ex.natProgram(settings.runtime),
      tty: o.tty === true,
      interactive: o.interactive === true,
      binds: (c.mounts ?? []).flatMap((m) => (m.type === 'bind' && m.source ? [{ source: m.source, target: m.destination, readonly: m.readonly }] : [])),
      tmpfs: (c.mounts ?? []).flatMap((m) => (m.type === 'tmpfs' ? [{ target: m.destination }] : [])),
    },
    { stdin: o.interactive ? 'inherit' : 'ignore', forwardSignals: o.forwardSignals === true },
  );
  if (result.kind === 'setup-failed') throw new UserError('container-start', result.message, { exitCode: result.code });
  return result.kind === 'exited' ? result.code : 128 + result.signal;
}

async function emptyDir(containerDir: string): Promise<string> {
  const dir = join(containerDir, 'empty');
  await mkdir(dir, { recursive: true });
  return dir;
}
