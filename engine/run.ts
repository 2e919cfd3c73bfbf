import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { UserError, formatPlatform, initPath, parsePlatformSpec, samePlatform } from '../common/index.js';
import { NameInUseError, familiarName, isValidName, parseReference, processStartTicks, type ContainerRecord, type ImageRecord, type Store } from '../store/index.js';
import { openStoreOf, type StoreOption } from './store-option.js';
import { settingsFromEnv, type Settings } from './settings.js';
import { parseMountFlag, parseTmpfsFlag, parseVolumeFlag, prepareBindSource } from './run-mounts.js';
import { exposedPorts, parsePublish, resolvePorts } from './run-ports.js';
import { parseSignal } from './signals.js';

/** slirp4netns's API socket for -p: short (a unix socket path has 108 bytes), one per container. */
export function slirpSocket(id: string): string {
  return join(tmpdir(), `tsbuild-${id.slice(0, 16)}.sock`);
}

/** A container to run, as `tsbuild run` takes it (the CLI parses argv into this once). */
export interface RunOptions {
  /** A name (pulled when the store lacks it, as `docker run` does), an id or a unique id prefix. */
  image: string;
  /** `--platform`: which child of a multi-platform image (default the host's); a plain image must be for it. */
  platform?: string;
  /** Replaces the image's CMD. */
  command?: string[];
  /** Replaces the image's ENTRYPOINT ('' clears it). */
  entrypoint?: string;
  /** `K=V` entries over the image's Env (later ones win). */
  env?: string[];
  /** An absolute path; default the image's WorkingDir. */
  workdir?: string;
  /** `name`, `uid`, `uid:gid` …; default the image's User. */
  user?: string;
  /** Default the first 12 hex digits of the container id. */
  hostname?: string;
  /** The container's name; default a random `adjective_name`. */
  name?: string;
  /** `default`: a private network with NAT; `host` shares the host's; `none`: loopback only. */
  network?: 'default' | 'host' | 'none';
  /** Docker's formats: `64m`, `20`, `0.5`. */
  memory?: string;
  pidsLimit?: string;
  cpus?: string;
  /** `HOST[:CONTAINER[:rwm]]` device nodes to pass in. */
  devices?: string[];
  /** `seccomp=unconfined`, `systempaths=unconfined`, `no-new-privileges=false` (executor/security-opts.ts). */
  securityOpt?: string[];
  /** `-v HOST:CTR[:ro]`, `-v NAME:CTR`, `-v CTR` (engine/run-mounts.ts). */
  volumes?: string[];
  /** `--mount type=bind|volume|tmpfs,source=…,target=…[,readonly]`. */
  mounts?: string[];
  /** `--tmpfs CTR[:size=N]`. */
  tmpfs?: string[];
  /** The root filesystem read-only (`--read-only`). */
  readOnly?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  /** `-p [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]` (the default network only). */
  publish?: string[];
  /** `-P`: every port the image EXPOSEs, to free host ports. */
  publishAll?: boolean;
  /** `--log-opt max-size`: a detached container's log moves aside past this (one older file is kept). */
  logMaxBytes?: number;
  /** `--init`: tsbuild-init runs as pid 1 (forwards signals, reaps zombies), as docker-init does. */
  init?: boolean;
  /** What `stop` sends first (`--stop-signal`); default the image's StopSignal, else SIGTERM. */
  stopSignal?: string;
  /** Only `no` (Docker's default): tsbuild has no daemon to restart containers. */
  restart?: string;
  /** Relative bind sources are relative to this; default process.cwd(). */
  cwd?: string;
  /** A pseudo-terminal for the command (its input must then be a terminal too). */
  tty?: boolean;
  /** Keep stdin open: the caller's terminal or stream. */
  interactive?: boolean;
  /** Start and return at once; the container outlives the caller (its output goes to its log). */
  detach?: boolean;
  /** Remove the container once it ended (`--rm`). */
  remove?: boolean;
  /** The container's output: the caller's own stdout/stderr (default), nothing, or callbacks. */
  stdout?: 'inherit' | 'ignore' | ((chunk: Uint8Array) => void);
  stderr?: 'inherit' | 'ignore' | ((chunk: Uint8Array) => void);
  /** With `interactive`: the caller's stdin (default), or this input. */
  stdin?: 'inherit' | Readable | Uint8Array | string;
  /** SIGINT/SIGTERM/SIGHUP sent to this process go to the container (the CLI in the foreground). */
  forwardSignals?: boolean;
  /** A pull's progress lines. */
  onMessage?: (line: string) => void;
  store?: StoreOption;
  settings?: Settings;
  /** Aborted: the container is killed. */
  signal?: AbortSignal;
}

export type RunResult =
  /** The command ended: its exit code (128+N when killed by signal N). */
  | { containerId: string; detached: false; exitCode: number }
  | { containerId: string; detached: true; pid: number };

export const runMessages = {
  'image-not-found': (name: string) => `Unable to find image '${name}' locally`,
  'image-platform': (name: string, has: string, want: string) => `image ${name} is ${has || 'for no platform'}: it has no ${want} variant`,
  'no-command': () => 'No command specified',
  'relative-workdir': (dir: string) => `the working directory '${dir}' is invalid, it needs to be an absolute path`,
  'name-in-use': (name: string) =>
    `Conflict. The container name "/${name}" is already in use. You have to remove (or rename) that container to be able to reuse that name.`,
  'bad-name': (name: string) => `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
  'restart-policy': (policy: string) =>
    `restart policy "${policy}" is not supported yet: tsbuild has no daemon to restart containers (only --restart=no)`,
  'duplicate-mount': (path: string) => `Duplicate mount point: ${path}`,
  'publish-network': (network: string) => `published ports need the default network, not --network ${network}`,
} satisfies Record<string, (...args: never[]) => string>;

/** What `start` needs to run a stopped container again (containers/<id>/spec.json). */
export interface SavedSpec {
  spec: import('../executor/index.js').ContainerSpec;
  limits: import('../executor/index.js').ResourceLimits;
  logMaxBytes?: number;
}

/** Where `--init`'s program is bound in the container (Docker's path for docker-init). */
const INIT_TARGET = '/sbin/docker-init';

/** Docker exits 125 when the container could not be created. */
function fail(code: keyof typeof runMessages, message: string, where?: string): UserError {
  return new UserError(code, message, { where, exitCode: 125 });
}

/** The image to run: the store's, else pulled as `docker run` does. */
async function imageFor(store: Store, ref: string, o: RunOptions, settings: Settings): Promise<ImageRecord> {
  const platform = o.platform === undefined ? undefined : parsePlatformSpec(o.platform);
  const local = await store.resolveImage(ref, { platform });
  if (local && platform && !local.index && !samePlatform(local.config, platform)) {
    throw fail('image-platform', runMessages['image-platform'](ref, formatPlatform(local.config), formatPlatform(platform)), ref);
  }
  if (local) {
    // Its CPU's binaries run natively or under qemu's binfmt_misc handler, never unchecked.
    const { emulatorFor } = await import('../executor/index.js');
    await emulatorFor(local.config, settings.runtime.binfmtDir, 'a container');
    return local;
  }
  const other = platform ? await store.resolveImage(ref) : undefined;
  if (other) throw fail('image-platform', runMessages['image-platform'](ref, (other.index?.platforms ?? []).map(formatPlatform).join(', '), formatPlatform(platform!)), ref);
  let shown: string;
  try {
    shown = familiarName(parseReference(ref));
  } catch {
    // not a name (an id prefix, or malformed): nothing to pull
    throw fail('image-not-found', runMessages['image-not-found'](ref), ref);
  }
  o.onMessage?.(runMessages['image-not-found'](shown));
  const { pullImage } = await import('../registry/index.js');
  return pullImage(store, ref, { ...settings.registry, progress: o.onMessage, platform: o.platform });
}

/** Run a command in a new container from an image: `docker run`. */
export async function run(o: RunOptions): Promise<RunResult> {
  try {
    return await runContainerOnce(o);
  } catch (e) {
    // Docker's rule: an error of `run` itself (before the command runs) exits 125.
    if (e instanceof UserError && e.exitCode === 1) {
      throw new UserError(e.code, e.message, { where: e.where, hint: e.hint, detail: e.detail, exitCode: 125 });
    }
    throw e;
  }
}

async function runContainerOnce(o: RunOptions): Promise<RunResult> {
  const settings = o.settings ?? settingsFromEnv(process.env);
  const network = o.network ?? 'default';
  const ex = await import('../executor/index.js');
  const devices = await Promise.all((o.devices ?? []).map(ex.parseDevice));
  const security = ex.parseSecurityOpts(o.securityOpt ?? []);
  const limits = {
    memoryBytes: o.memory === undefined ? undefined : ex.parseMemory(o.memory),
    pidsLimit: o.pidsLimit === undefined ? undefined : ex.parsePidsLimit(o.pidsLimit),
    cpus: o.cpus === undefined ? undefined : ex.parseCpus(o.cpus),
    deviceRules: ex.deviceRules(devices.map((d) => d.rule)),
  };
  if (o.name !== undefined && !isValidName(o.name)) throw fail('bad-name', runMessages['bad-name'](o.name), o.name);
  if (o.restart !== undefined && o.restart !== 'no') throw fail('restart-policy', runMessages['restart-policy'](o.restart), o.restart);
  const cwdHost = o.cwd ?? process.cwd();
  const mountRequests = [
    ...(o.volumes ?? []).map((v) => ({ ...parseVolumeFlag(v, cwdHost), fromVolumeFlag: true })),
    ...(o.mounts ?? []).map((m) => ({ ...parseMountFlag(m, cwdHost, (v) => ex.parseMemory(v, '--mount tmpfs-size')), fromVolumeFlag: false })),
    ...(o.tmpfs ?? []).map((t) => ({ ...parseTmpfsFlag(t, (v) => ex.parseMemory(v, '--tmpfs size')), fromVolumeFlag: false })),
  ];
  const seenTargets = new Set<string>();
  for (const m of mountRequests) {
    if (seenTargets.has(m.destination)) throw fail('duplicate-mount', runMessages['duplicate-mount'](m.destination), m.destination);
    seenTargets.add(m.destination);
  }
  const capabilities = ex.capabilitySet(o.capAdd ?? [], o.capDrop ?? []);
  const portRequests = (o.publish ?? []).map(parsePublish);
  if ((portRequests.length > 0 || o.publishAll) && network !== 'default') throw fail('publish-network', runMessages['publish-network'](network));
  if (o.workdir !== undefined && !o.workdir.startsWith('/')) throw fail('relative-workdir', runMessages['relative-workdir'](o.workdir));
  if (o.stopSignal !== undefined) parseSignal(o.stopSignal);

  const store = await openStoreOf(o.store, settings);
  const image = await imageFor(store, o.image, o, settings);
  const config = image.config.config ?? {};
  const processArgv = ex.containerArgv(config, { entrypoint: o.entrypoint, args: o.command ?? [] });
  const stopSignal = o.stopSignal ?? config.StopSignal;
  if (processArgv.length === 0) throw fail('no-command', runMessages['no-command']());

  const ports = await resolvePorts([...portRequests, ...(o.publishAll ? exposedPorts(config.ExposedPorts) : [])]);
  for (const m of mountRequests) if (m.type === 'bind') await prepareBindSource(m, m.fromVolumeFlag);
  const volumeDirs = new Map<string, { mountpoint: string; created: boolean }>();
  for (const m of mountRequests) {
    if (m.type !== 'volume' || volumeDirs.has(m.source!)) continue;
    const { volume, created } = await store.volumes.ensure(m.source!);
    volumeDirs.set(m.source!, { mountpoint: volume.mountpoint, created });
  }

  const bottomFirst = await Promise.all(image.manifest.layers.map((l, i) => store.layerDir(image.config.rootfs.diff_ids[i], l)));
  const { snapshotter } = await ex.chooseSnapshotter(store, settings.runtime.snapshotter);
  const { user, passwd } = await ex.withRootfsView(store, bottomFirst, async (rootfs) => {
    // Docker fills a new volume with what the image has at its mount point.
    for (const m of mountRequests) {
      const v = m.type === 'volume' ? volumeDirs.get(m.source!) : undefined;
      if (!v?.created || !rootfs) continue;
      const inImage = join(rootfs, m.destination);
      if ((await stat(inImage).catch(() => undefined))?.isDirectory()) await ex.copyTree(inImage, v.mountpoint);
    }
    return {
      user: await ex.resolveUser(o.user ?? config.User ?? '', rootfs),
      passwd: rootfs ? await readFile(join(rootfs, 'etc', 'passwd'), 'utf8').catch(() => undefined) : undefined,
    };
  });

  let created;
  try {
    created = await store.containers.create({
      name: o.name,
      image: { id: image.id, name: o.image },
      command: processArgv,
      autoRemove: o.remove === true,
      lowerDirs: [...bottomFirst].reverse(),
    });
  } catch (e) {
    if (e instanceof NameInUseError) throw fail('name-in-use', runMessages['name-in-use'](e.containerName), e.containerName);
    throw e;
  }
  const { paths } = created;
  const hostname = o.hostname ?? created.record.id.slice(0, 12);
  let lowerDirs = created.record.lowerDirs;
  if (lowerDirs.length === 0) {
    lowerDirs = [join(paths.dir, 'empty')]; // an image without layers (FROM scratch + config only)
    await mkdir(lowerDirs[0]);
  }
  const tty = o.tty === true;
  const env = ex.containerEnv(config.Env, o.env ?? [], { hostname, tty, home: ex.homeOf(passwd, user.uid) });
  const cwd = o.workdir ?? (config.WorkingDir || '/');
  const record: ContainerRecord = {
    ...created.record,
    ...(mountRequests.length > 0 ? { mounts: mountRequests.map(({ type, source, destination, readonly }) => ({ type, ...(source !== undefined ? { source } : {}), destination, readonly })) } : {}),
    ...(ports.length > 0 ? { ports: ports.map(({ optional: _, ...p }) => p) } : {}),
    ...(stopSignal ? { stopSignal } : {}),
    process: { env, cwd, userSpec: o.user ?? config.User ?? '', user, tty, interactive: o.interactive === true, hostname },
  };
  // Docker binds docker-init at /sbin/docker-init and runs `/sbin/docker-init -- CMD...`.
  const initBinds = o.init ? [{ source: initPath, target: INIT_TARGET, readonly: true }] : [];
  const spec: import('../executor/index.js').ContainerSpec = {
    rootfs: { kind: 'overlay', lowerDirs, upperDir: paths.upperDir, workDir: paths.workDir },
    mountPoint: paths.mountPoint,
    argv: o.init ? [INIT_TARGET, '--', ...processArgv] : processArgv,
    env,
    cwd,
    user,
    hostname,
    network: network === 'default' ? 'private' : network,
    ...(network === 'default' ? { nat: ex.natProgram(settings.runtime) } : {}),
    seccomp: security.seccomp,
    ...(security.systemPaths === 'unconfined' ? { systemPaths: security.systemPaths } : {}),
    ...(security.noNewPrivileges ? {} : { noNewPrivileges: false }),
    devices: devices.map(({ source, target }) => ({ source, target })),
    binds: [
      ...initBinds,
      ...mountRequests
        .filter((m) => m.type !== 'tmpfs')
        .map((m) => ({ source: m.type === 'volume' ? volumeDirs.get(m.source!)!.mountpoint : m.source!, target: m.destination, readonly: m.readonly })),
    ],
    tmpfs: mountRequests.filter((m) => m.type === 'tmpfs').map((m) => ({ target: m.destination, sizeBytes: m.tmpfsBytes })),
    ...(o.readOnly ? { readOnly: true } : {}),
    ...(capabilities !== undefined ? { capabilities } : {}),
    ...(ports.length > 0 ? { publish: { api: slirpSocket(created.record.id), ports } } : {}),
    tty,
    interactive: o.interactive === true,
    etcDir: paths.etcDir,
    statusFile: paths.statusFile,
    removeOnExit: record.autoRemove ? [paths.nameLink, paths.dir, ...(ports.length > 0 ? [slirpSocket(record.id)] : [])] : undefined,
  };
  const started = (pid: number): ContainerRecord => ({
    ...record,
    status: { state: 'running' },
    startedAt: new Date().toISOString(),
    pid,
    pidStartTicks: processStartTicks(pid),
    ...(spec.cgroups ? { cgroups: spec.cgroups } : {}),
  });

  // The copy snapshotter: the container's filesystem is a copy of the image in its layer dir.
  if (snapshotter === 'copy') spec.rootfs = await ex.makeCopyRootfs(lowerDirs, paths.upperDir, spec);
  await writeFile(paths.specFile, JSON.stringify({ spec, limits, logMaxBytes: o.logMaxBytes } satisfies SavedSpec) + '\n');
  let cgroup;
  try {
    cgroup = await ex.createCgroup(record.id, limits);
  } catch (e) {
    // Docker: stays "Created" when it could not start (gone with --rm)
    await (record.autoRemove ? store.containers.remove(record) : store.containers.save(record));
    throw e;
  }
  if (cgroup) {
    spec.cgroups = cgroup.dirs;
    spec.deviceFilter = cgroup.deviceFilter;
  }
  if (o.detach) {
    const { pid } = await ex.startDetached({ ...spec, log: { file: paths.logFile, maxBytes: o.logMaxBytes } });
    await store.containers.save(started(pid));
    return { containerId: record.id, detached: true, pid };
  }
  let saving: Promise<void> = Promise.resolve();
  let running = record;
  const input = o.stdin ?? 'inherit';
  // Kept in the log as a detached one's is (Docker logs every container), and ended with us.
  const foreground = { ...spec, endWithParent: true, log: { file: paths.logFile, maxBytes: o.logMaxBytes, tee: true } };
  const result = await ex.runContainer(foreground, {
    stdin: !spec.interactive ? 'ignore' : input === 'inherit' ? 'inherit' : 'pipe',
    ...(spec.interactive && input !== 'inherit' ? { input } : {}),
    ...output('stdout', o.stdout),
    ...output('stderr', o.stderr),
    forwardSignals: o.forwardSignals === true,
    signal: o.signal,
    onStart: ({ pid }) => {
      running = started(pid);
      saving = store.containers.save(running).catch(() => undefined); // --rm: the helper may be faster
    },
  });
  await saving;
  await cgroup?.remove().catch(() => undefined); // the helper removed them already; a leftover is swept later
  const code = result.kind === 'exited' ? result.code : result.kind === 'signaled' ? 128 + result.signal : result.code;
  if (record.autoRemove) await store.containers.remove(running);
  else if (result.kind === 'setup-failed') await store.containers.save(record); // Docker: stays "Created"
  else await store.containers.markExited(running, code);
  if (result.kind === 'setup-failed') throw new UserError('container-start', result.message, { exitCode: result.code });
  return { containerId: record.id, detached: false, exitCode: code };
}

function output(which: 'stdout' | 'stderr', o: RunOptions['stdout']) {
  const on = which === 'stdout' ? 'onStdout' : 'onStderr';
  return typeof o === 'function' ? { [on]: o } : { [which]: o ?? 'inherit' };
}
