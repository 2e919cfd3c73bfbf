import { readFile } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UserError } from '../../common/index.js';
import type { CliContext, Command } from '../command.js';
import { boolOpt, listOpt, parseArgs, stringOpt, usageError, type OptionSpec } from '../args.js';

const options: OptionSpec[] = [
  { name: 'rm', type: 'boolean' },
  { name: 'interactive', short: 'i', type: 'boolean' },
  { name: 'tty', short: 't', type: 'boolean' },
  { name: 'detach', short: 'd', type: 'boolean' },
  { name: 'name', type: 'string' },
  { name: 'env', short: 'e', type: 'string', multiple: true },
  { name: 'env-file', type: 'string', multiple: true },
  { name: 'workdir', short: 'w', type: 'string' },
  { name: 'user', short: 'u', type: 'string' },
  { name: 'network', type: 'string' },
  { name: 'entrypoint', type: 'string' },
  { name: 'hostname', short: 'h', type: 'string' },
  { name: 'memory', short: 'm', type: 'string' },
  { name: 'pids-limit', type: 'string' },
  { name: 'cpus', type: 'string' },
  { name: 'device', type: 'string', multiple: true },
  { name: 'security-opt', type: 'string', multiple: true },
];

export const command: Command = {
  name: 'run',
  usage:
    'tsbuild run [--rm] [-i] [-t] [-d] [--name N] [-e K=V]... [--env-file F] [-w DIR] [-u USER] [--network host|none|default] [--entrypoint X] [-h HOSTNAME] [-m BYTES] [--pids-limit N] [--cpus N] [--device HOST[:CTR[:rwm]]] [--security-opt seccomp=unconfined] IMAGE [COMMAND [ARG...]]',
  summary: 'Run a command in a new container.',
  run,
};

export const runMessages = {
  'not-a-tty': () => 'the input device is not a TTY',
  'image-not-found': (name: string) => `Unable to find image '${name}' locally`,
  'no-command': () => 'No command specified',
  'relative-workdir': (dir: string) => `the working directory '${dir}' is invalid, it needs to be an absolute path`,
  'name-in-use': (name: string) =>
    `Conflict. The container name "/${name}" is already in use. You have to remove (or rename) that container to be able to reuse that name.`,
  'bad-name': (name: string) => `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
} satisfies Record<string, (...args: never[]) => string>;

function fail(code: keyof typeof runMessages, message: string, where?: string): UserError {
  // Docker exits 125 when the container could not be created (not a TTY is the CLI's own 1).
  return new UserError(code, message, { where, exitCode: code === 'not-a-tty' ? 1 : 125 });
}

/** Docker's rule: an error of `run` itself (before the command runs) exits 125. */
async function run(argv: string[], ctx: CliContext): Promise<number> {
  try {
    return await runContainerCommand(argv, ctx);
  } catch (e) {
    if (e instanceof UserError && e.exitCode === 1 && e.code !== 'not-a-tty') {
      throw new UserError(e.code, e.message, { where: e.where, hint: e.hint, detail: e.detail, exitCode: 125 });
    }
    throw e;
  }
}

/** `-m/--memory`, `--pids-limit`, `--cpus` in Docker's formats (bad values: exit 125). */
async function resourceLimits(args: ReturnType<typeof parseArgs>) {
  const { parseMemory, parsePidsLimit, parseCpus } = await import('../../executor/cgroups-limits.js');
  const memory = stringOpt(args, 'memory');
  const pids = stringOpt(args, 'pids-limit');
  const cpus = stringOpt(args, 'cpus');
  return {
    memoryBytes: memory === undefined ? undefined : parseMemory(memory),
    pidsLimit: pids === undefined ? undefined : parsePidsLimit(pids),
    cpus: cpus === undefined ? undefined : parseCpus(cpus),
  };
}

async function runContainerCommand(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, options, { stopAtPositional: true });
  const [imageArg, ...cmdArgs] = args.positionals;
  if (imageArg === undefined) throw usageError('"run" requires at least 1 argument: IMAGE [COMMAND [ARG...]]');
  const tty = boolOpt(args, 'tty');
  const detach = boolOpt(args, 'detach');
  // DESIGN.md clarification: `run -t` without a terminal on stdin is Docker's TTY error.
  if (tty && !detach && !ctx.stdin.isTTY) throw fail('not-a-tty', runMessages['not-a-tty']());
  const network = stringOpt(args, 'network') ?? 'default';
  if (!['default', 'host', 'none'].includes(network)) throw usageError(`invalid --network "${network}": want host, none or default`);
  const name = stringOpt(args, 'name');
  const { parseDevice, parseSecurityOpts, deviceRules, natProgram } = await import('../../executor/index.js');
  const { settingsFromEnv } = await import('../../engine/settings.js');
  const devices = await Promise.all(listOpt(args, 'device').map(parseDevice));
  const { seccomp } = parseSecurityOpts(listOpt(args, 'security-opt'));
  const limits = { ...(await resourceLimits(args)), deviceRules: deviceRules(devices.map((d) => d.rule)) };
  const { isValidName, createContainer, NameInUseError, saveContainer, markExited, removeContainer, processStartTicks } =
    await import('../../store/containers.js');
  if (name !== undefined && !isValidName(name)) throw fail('bad-name', runMessages['bad-name'](name), name);
  const workdirArg = stringOpt(args, 'workdir');
  if (workdirArg !== undefined && !workdirArg.startsWith('/')) throw fail('relative-workdir', runMessages['relative-workdir'](workdirArg));

  const { openStore, familiarName, parseReference } = await import('../../store/index.js');
  const store = await openStore(ctx.root);
  let image = await store.resolveImage(imageArg);
  if (!image) {
    let shown = imageArg;
    try {
      shown = familiarName(parseReference(imageArg));
    } catch {
      // not a name (an id prefix, or malformed): nothing to pull
      throw fail('image-not-found', runMessages['image-not-found'](shown), imageArg);
    }
    // As `docker run`: an image that is not in the store is pulled first.
    ctx.stderr.write(runMessages['image-not-found'](shown) + '\n');
    const { pullImage, registrySettings } = await import('../../registry/index.js');
    try {
      image = await pullImage(store, imageArg, { ...registrySettings(ctx.env), progress: (line) => ctx.stderr.write(line + '\n') });
    } catch (e) {
      if (e instanceof UserError) throw new UserError(e.code, e.message, { where: e.where, hint: e.hint, exitCode: 125 });
      throw e;
    }
  }
  const config = image.config.config ?? {};
  const { containerArgv, containerEnv, expandEnvFlags, parseEnvFile, homeOf } = await import('../../executor/container-config.js');
  const processArgv = containerArgv(config, { entrypoint: stringOpt(args, 'entrypoint'), args: cmdArgs });
  if (processArgv.length === 0) throw fail('no-command', runMessages['no-command']());

  const bottomFirst = await Promise.all(
    image.manifest.layers.map((l, i) => store.layerDir(image.config.rootfs.diff_ids[i], l)),
  );
  const { withRootfsView } = await import('../../executor/rootfs-view.js');
  const { resolveUser } = await import('../../executor/user.js');
  const userSpec = stringOpt(args, 'user') ?? config.User ?? '';
  const { user, passwd } = await withRootfsView(store, bottomFirst, async (rootfs) => ({
    user: await resolveUser(userSpec, rootfs),
    passwd: rootfs ? await readFile(join(rootfs, 'etc', 'passwd'), 'utf8').catch(() => undefined) : undefined,
  }));

  const userEnv = expandEnvFlags(listOpt(args, 'env'), ctx.env);
  for (const f of listOpt(args, 'env-file')) {
    const text = await readFile(resolve(ctx.cwd, f), 'utf8').catch(() => {
      throw new UserError('env-file', `open ${f}: no such file or directory`, { where: f, exitCode: 125 });
    });
    userEnv.unshift(...parseEnvFile(text, ctx.env)); // -e wins over --env-file, as in Docker
  }

  let created;
  try {
    created = await createContainer(store.root, {
      name,
      image: { id: image.id, name: imageArg },
      command: processArgv,
      autoRemove: boolOpt(args, 'rm'),
      lowerDirs: [...bottomFirst].reverse(),
    });
  } catch (e) {
    if (e instanceof NameInUseError) throw fail('name-in-use', runMessages['name-in-use'](e.containerName), e.containerName);
    throw e;
  }
  const { record, paths } = created;
  const hostname = stringOpt(args, 'hostname') ?? record.id.slice(0, 12);
  let lowerDirs = record.lowerDirs;
  if (lowerDirs.length === 0) {
    lowerDirs = [join(paths.dir, 'empty')]; // an image without layers (FROM scratch + config only)
    await mkdir(lowerDirs[0]);
  }
  const spec = {
    rootfs: { kind: 'overlay' as const, lowerDirs, upperDir: paths.upperDir, workDir: paths.workDir },
    mountPoint: paths.mountPoint,
    argv: processArgv,
    env: containerEnv(config.Env, userEnv, { hostname, tty, home: homeOf(passwd, user.uid) }),
    cwd: workdirArg ?? (config.WorkingDir || '/'),
    user,
    hostname,
    network: network === 'default' ? ('private' as const) : (network as 'host' | 'none'),
    ...(network === 'default' ? { nat: natProgram(settingsFromEnv(ctx.env).runtime) } : {}),
    seccomp,
    devices: devices.map(({ source, target }) => ({ source, target })),
    tty,
    interactive: boolOpt(args, 'interactive'),
    etcDir: paths.etcDir,
    statusFile: paths.statusFile,
    removeOnExit: record.autoRemove ? [paths.nameLink, paths.dir] : undefined,
    cgroups: undefined as string[] | undefined,
    deviceFilter: undefined as { dir: string; rules: string[] } | undefined,
  };
  const started = (pid: number) => ({
    ...record,
    status: { state: 'running' as const },
    startedAt: new Date().toISOString(),
    pid,
    pidStartTicks: processStartTicks(pid),
  });

  const { runContainer, startDetached } = await import('../../executor/container.js');
  const { createCgroup } = await import('../../executor/cgroups.js');
  let cgroup;
  try {
    cgroup = await createCgroup(record.id, limits);
  } catch (e) {
    // Docker: stays "Created" when it could not start (gone with --rm)
    await (record.autoRemove ? removeContainer(store.root, record) : saveContainer(store.root, record));
    throw e;
  }
  if (cgroup) {
    spec.cgroups = cgroup.dirs;
    spec.deviceFilter = cgroup.deviceFilter;
  }
  if (detach) {
    const { pid } = await startDetached(spec, { logFile: paths.logFile });
    await saveContainer(store.root, started(pid));
    ctx.stdout.write(record.id + '\n');
    return 0;
  }
  let saving: Promise<void> = Promise.resolve();
  let running = record;
  const result = await runContainer(spec, {
    stdin: spec.interactive ? 'inherit' : 'ignore',
    stdout: 'inherit',
    stderr: 'inherit',
    forwardSignals: true,
    onStart: ({ pid }) => {
      running = started(pid);
      saving = saveContainer(store.root, running).catch(() => undefined); // --rm: the helper may be faster
    },
  });
  await saving;
  await cgroup?.remove().catch(() => undefined); // the helper removed them already; a leftover is swept later
  const code = result.kind === 'exited' ? result.code : result.kind === 'signaled' ? 128 + result.signal : result.code;
  if (record.autoRemove) await removeContainer(store.root, running);
  else if (result.kind === 'setup-failed') await saveContainer(store.root, record); // Docker: stays "Created"
  else await markExited(store.root, running, code);
  if (result.kind === 'setup-failed') throw new UserError('container-start', result.message, { exitCode: result.code });
  return code;
}
