import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UserError } from '../../common/index.js';
import type { CliContext, Command } from '../command.js';
import { boolOpt, listOpt, parseArgs, stringOpt, usageError, type OptionSpec, type ParsedArgs } from '../args.js';

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
  { name: 'volume', short: 'v', type: 'string', multiple: true },
  { name: 'mount', type: 'string', multiple: true },
  { name: 'tmpfs', type: 'string', multiple: true },
  { name: 'read-only', type: 'boolean' },
  { name: 'cap-add', type: 'string', multiple: true },
  { name: 'cap-drop', type: 'string', multiple: true },
  { name: 'publish', short: 'p', type: 'string', multiple: true },
  { name: 'publish-all', short: 'P', type: 'boolean' },
  { name: 'restart', type: 'string' },
  { name: 'init', type: 'boolean' },
  { name: 'stop-signal', type: 'string' },
  { name: 'platform', type: 'string' },
  { name: 'log-opt', type: 'string', multiple: true },
  { name: 'from-container', type: 'string' },
];

/** `--log-opt max-size=10m` (json-file's option of that name); others are not supported yet. */
function logMaxBytes(opts: string[]): number | undefined {
  let max: number | undefined;
  for (const o of opts) {
    const eq = o.indexOf('=');
    const key = eq < 0 ? o : o.slice(0, eq);
    if (key !== 'max-size') throw new UserError('log-opt', `--log-opt ${key} is not supported yet (only max-size)`, { where: o, exitCode: 125 });
    // go-units RAMInBytes, as json-file reads it: 4k = 4096
    const m = /^(\d+(?:\.\d+)?) ?([kmgt])?i?b?$/i.exec(o.slice(eq + 1));
    if (!m || Number(m[1]) <= 0) throw new UserError('log-opt', `invalid --log-opt ${o}: want a size such as 10m`, { where: o, exitCode: 125 });
    max = Math.floor(Number(m[1]) * 1024 ** ' kmgt'.indexOf((m[2] ?? ' ').toLowerCase()));
  }
  return max;
}

export const command: Command = {
  name: 'run',
  usage:
    'tsbuild run [--rm] [-i] [-t] [-d] [--name N] [-e K=V]... [--env-file F] [-w DIR] [-u USER] [--network host|none|default] [--entrypoint X] [-h HOSTNAME] [-m BYTES] [--pids-limit N] [--cpus N] [--device HOST[:CTR[:rwm]]] [--security-opt seccomp=unconfined|systempaths=unconfined|no-new-privileges=false]... [-v HOST:CTR[:ro]|NAME:CTR]... [--mount type=bind|volume|tmpfs,...]... [--tmpfs CTR]... [--read-only] [--cap-add CAP]... [--cap-drop CAP]... [-p [IP:]HOST:CTR[/udp]]... [-P] [--restart no] [--init] [--stop-signal SIG] [--platform OS/ARCH[/VARIANT]] IMAGE [COMMAND [ARG...]]\n       tsbuild run [-i] [-t] --from-container CONTAINER [COMMAND [ARG...]]',
  summary: 'Run a command in a new container.',
  run,
};

/** Docker's rule: an error of `run` itself (before the command runs) exits 125; not a TTY is the CLI's own 1. */
async function run(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, options, { stopAtPositional: true });
  const from = stringOpt(args, 'from-container');
  if (from !== undefined) return runInContainer(from, args, ctx);
  const [image, ...command] = args.positionals;
  if (image === undefined) throw usageError('"run" requires at least 1 argument: IMAGE [COMMAND [ARG...]]');
  const tty = boolOpt(args, 'tty');
  const detach = boolOpt(args, 'detach');
  // DESIGN.md clarification: `run -t` without a terminal on stdin is Docker's TTY error.
  if (tty && !detach && !ctx.stdin.isTTY) throw new UserError('not-a-tty', 'the input device is not a TTY', { exitCode: 1 });
  const network = stringOpt(args, 'network') ?? 'default';
  if (!['default', 'host', 'none'].includes(network)) throw usageError(`invalid --network "${network}": want host, none or default`);
  const { run: runContainer, settingsFromEnv, expandEnvFlags, parseEnvFile } = await import('../../engine/index.js');
  const env = expandEnvFlags(listOpt(args, 'env'), ctx.env);
  for (const f of listOpt(args, 'env-file')) {
    const text = await readFile(resolve(ctx.cwd, f), 'utf8').catch(() => {
      throw new UserError('env-file', `open ${f}: no such file or directory`, { where: f, exitCode: 125 });
    });
    env.unshift(...parseEnvFile(text, ctx.env)); // -e wins over --env-file, as in Docker
  }
  const result = await runContainer({
    image,
    platform: stringOpt(args, 'platform'),
    command,
    entrypoint: stringOpt(args, 'entrypoint'),
    env,
    workdir: stringOpt(args, 'workdir'),
    user: stringOpt(args, 'user'),
    hostname: stringOpt(args, 'hostname'),
    name: stringOpt(args, 'name'),
    network: network as 'default' | 'host' | 'none',
    memory: stringOpt(args, 'memory'),
    pidsLimit: stringOpt(args, 'pids-limit'),
    cpus: stringOpt(args, 'cpus'),
    devices: listOpt(args, 'device'),
    securityOpt: listOpt(args, 'security-opt'),
    volumes: listOpt(args, 'volume'),
    mounts: listOpt(args, 'mount'),
    tmpfs: listOpt(args, 'tmpfs'),
    readOnly: boolOpt(args, 'read-only'),
    capAdd: listOpt(args, 'cap-add'),
    capDrop: listOpt(args, 'cap-drop'),
    publish: listOpt(args, 'publish'),
    publishAll: boolOpt(args, 'publish-all'),
    init: boolOpt(args, 'init'),
    stopSignal: stringOpt(args, 'stop-signal'),
    restart: stringOpt(args, 'restart'),
    logMaxBytes: logMaxBytes(listOpt(args, 'log-opt')),
    cwd: ctx.cwd,
    tty,
    interactive: boolOpt(args, 'interactive'),
    detach,
    remove: boolOpt(args, 'rm'),
    forwardSignals: true,
    onMessage: (line) => ctx.stderr.write(line + '\n'),
    store: ctx.root,
    settings: settingsFromEnv(ctx.env),
  });
  if (result.detached) {
    ctx.stdout.write(result.containerId + '\n');
    return 0;
  }
  return result.exitCode;
}

/** The options `--from-container` takes; the others describe a new container. */
const FROM_CONTAINER_OPTIONS = new Set(['from-container', 'interactive', 'tty']);

/** `run --from-container ID [CMD]`: a command in a stopped container's own state (one `build --on-error=keep` left). */
async function runInContainer(container: string, args: ParsedArgs, ctx: CliContext): Promise<number> {
  const other = Object.keys(args.options).find((o) => args.options[o] !== undefined && !FROM_CONTAINER_OPTIONS.has(o));
  if (other) throw usageError(`--${other} cannot be used with --from-container (it runs in the container as it was kept)`);
  const tty = boolOpt(args, 'tty');
  if (tty && !ctx.stdin.isTTY) throw new UserError('not-a-tty', 'the input device is not a TTY', { exitCode: 1 });
  const { enterContainer, settingsFromEnv } = await import('../../engine/index.js');
  return enterContainer({
    container,
    command: args.positionals,
    tty,
    interactive: boolOpt(args, 'interactive'),
    forwardSignals: true,
    store: ctx.root,
    settings: settingsFromEnv(ctx.env),
  });
}
