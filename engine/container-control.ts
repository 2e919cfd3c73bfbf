/**
 * A container's life after `run`: stop, kill, wait, start, restart, rename and prune, as
 * Docker's verbs of those names behave. Signals go to the container's pid 1 from the host
 * (so, as with Docker, pid 1 only sees a signal it has a handler for, SIGKILL excepted);
 * its helper records how it ended.
 */
import { readFile, readdir, lstat, rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../common/index.js';
import { NameInUseError, isHelperAlive, isValidName, processStartTicks, type ContainerRecord, type Store } from '../store/index.js';
import { findContainer } from './containers.js';
import type { CallOptions } from './images.js';
import { slirpSocket, type SavedSpec } from './run.js';
import { openStoreOf } from './store-option.js';
import { settingsFromEnv } from './settings.js';
import { parseSignal } from './signals.js';

export const controlMessages = {
  'not-running': (ref: string) => `container ${ref} is not running`,
  'cannot-kill': (ref: string, id: string) => `cannot kill container: ${ref}: container ${id} is not running`,
  'bad-timeout': (t: string) => `invalid argument "${t}" for "-t, --time" flag: a whole number of seconds`,
  'same-name': () => 'Renaming a container with the same name as its current name',
  'name-in-use': (name: string, id: string) =>
    `Conflict. The container name "/${name}" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`,
  'bad-name': (name: string) => `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
  'cannot-start': (ref: string) => `container ${ref} was created by an older tsbuild and cannot be started again`,
} satisfies Record<string, (...args: never[]) => string>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function storeOf(o: CallOptions) {
  return openStoreOf(o.store, o.settings ?? settingsFromEnv(process.env));
}

/** The helper's pid 1 child, or undefined once it is gone. */
async function initOf(c: ContainerRecord): Promise<number | undefined> {
  if (!isHelperAlive(c)) return undefined;
  const { containerInit } = await import('../executor/index.js');
  return containerInit(c.pid!);
}

/** Until the helper is gone (it writes the status line last), or `ms` passed; true when gone. */
async function helperGone(c: ContainerRecord, ms: number): Promise<boolean> {
  for (let waited = 0; isHelperAlive(c); waited += 25) {
    if (waited >= ms) return false;
    await sleep(25);
  }
  return true;
}

function signalInit(pid: number | undefined, sig: number): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, sig);
  } catch {
    // it ended meanwhile
  }
}

export interface StopOptions extends CallOptions {
  container: string;
  /** Default 10. */
  timeoutSeconds?: number;
  /** `stop -s`: sent first instead of the container's stop signal. */
  signal?: string;
}

/**
 * `docker stop`: the stop signal (`-s`, else the container's: `run --stop-signal` or the
 * image's StopSignal, else SIGTERM: moby daemon/stop.go), then SIGKILL after `timeoutSeconds`.
 * A stopped one is left as it is.
 */
export async function stopContainer(o: StopOptions): Promise<ContainerRecord> {
  const first = parseSignal(o.signal ?? 'TERM');
  const store = await storeOf(o);
  const c = await findContainer(store, o.container);
  if (c.status.state !== 'running') return c;
  const init = await initOf(c);
  signalInit(init, o.signal === undefined && c.stopSignal !== undefined ? parseSignal(c.stopSignal) : first);
  if (!(await helperGone(c, (o.timeoutSeconds ?? 10) * 1000))) {
    signalInit(init, constants.signals.SIGKILL);
    if (!(await helperGone(c, 10_000))) signalInit(c.pid, constants.signals.SIGKILL); // pid 1 dies with it
  }
  await helperGone(c, 5_000);
  return findContainer(store, c.id);
}

/** `docker kill`: one signal (default SIGKILL) to pid 1 of a running container. */
export async function killContainer(o: CallOptions & { container: string; signal?: string }): Promise<void> {
  const sig = parseSignal(o.signal ?? 'KILL');
  const store = await storeOf(o);
  const c = await findContainer(store, o.container);
  const init = c.status.state === 'running' ? await initOf(c) : undefined;
  if (init === undefined) throw new UserError('not-running', controlMessages['cannot-kill'](o.container, c.id), { where: o.container });
  signalInit(init, sig);
  if (sig === constants.signals.SIGKILL) await helperGone(c, 10_000);
}

/** `docker wait`: block until the container is not running, then its exit code. */
export async function waitContainer(o: CallOptions & { container: string }): Promise<number> {
  const store = await storeOf(o);
  let c = await findContainer(store, o.container);
  while (c.status.state === 'running') {
    await helperGone(c, 60_000);
    c = await findContainer(store, c.id);
  }
  return c.status.state === 'exited' ? c.status.code ?? 0 : 0;
}

/** `docker start`: run a created or stopped container again, detached, in its own layer. */
export async function startContainer(o: CallOptions & { container: string }): Promise<ContainerRecord> {
  const store = await storeOf(o);
  const c = await findContainer(store, o.container);
  if (c.status.state === 'running') return c;
  const paths = store.containers.paths(c.id, c.name);
  const saved = await readFile(paths.specFile, 'utf8').then((t) => JSON.parse(t) as SavedSpec, () => undefined);
  if (!saved) throw new UserError('cannot-start', controlMessages['cannot-start'](o.container), { where: o.container });
  const ex = await import('../executor/index.js');
  const spec: SavedSpec['spec'] = { ...saved.spec, cgroups: undefined, deviceFilter: undefined, log: { file: paths.logFile, maxBytes: saved.logMaxBytes } };
  await rm(paths.statusFile, { force: true });
  await rm(slirpSocket(c.id), { force: true }); // slirp4netns makes it anew
  const cgroup = await ex.createCgroup(c.id, saved.limits);
  if (cgroup) {
    spec.cgroups = cgroup.dirs;
    spec.deviceFilter = cgroup.deviceFilter;
  }
  const { pid } = await ex.startDetached(spec);
  const started: ContainerRecord = { ...c, status: { state: 'running' }, startedAt: new Date().toISOString(), pid, pidStartTicks: processStartTicks(pid), cgroups: spec.cgroups };
  await store.containers.save(started);
  return started;
}

/** `docker restart`: stop (SIGTERM, SIGKILL after the timeout), then start. */
export async function restartContainer(o: StopOptions): Promise<ContainerRecord> {
  const stopped = await stopContainer(o);
  return startContainer({ ...o, container: stopped.id });
}

/** `docker rename OLD NEW`. */
export async function renameContainer(o: CallOptions & { container: string; name: string }): Promise<ContainerRecord> {
  const name = o.name.replace(/^\//, '');
  if (!isValidName(name)) throw new UserError('bad-name', controlMessages['bad-name'](name), { where: name });
  const store = await storeOf(o);
  const c = await findContainer(store, o.container);
  if (c.name === name) throw new UserError('same-name', controlMessages['same-name'](), { where: o.container });
  try {
    return await store.containers.rename(c, name);
  } catch (e) {
    if (!(e instanceof NameInUseError)) throw e;
    const holder = await store.containers.find(name).catch(() => undefined);
    throw new UserError('name-in-use', controlMessages['name-in-use'](name, holder?.id ?? ''), { where: name });
  }
}

/** Bytes of regular files below `dir` (a container's own layer), as Docker's SizeRw. */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const p = join(dir, name);
    const s = await lstat(p).catch(() => undefined);
    if (!s) continue;
    if (s.isDirectory()) total += await treeBytes(p);
    else if (s.isFile()) total += s.size;
  }
  return total;
}

/** `docker container prune`: every container that is not running; their ids and the bytes freed. */
export async function pruneContainers(o: CallOptions): Promise<{ deleted: string[]; reclaimedBytes: number }> {
  const store: Store = await storeOf(o);
  const deleted: string[] = [];
  let reclaimedBytes = 0;
  for (const c of await store.containers.list()) {
    if (c.status.state === 'running') continue;
    reclaimedBytes += await treeBytes(store.containers.paths(c.id).upperDir);
    await store.containers.remove(c);
    await rm(slirpSocket(c.id), { force: true });
    deleted.push(c.id);
  }
  return { deleted, reclaimedBytes };
}
