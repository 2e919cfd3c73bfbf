/**
 * cli/: the `tsbuild` command — turns argv into calls on the other folders and their
 * results into text and exit codes. It holds no build logic. Commands are loaded lazily so
 * that a cached build or `tsbuild images` starts fast.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError, UserErrors, suggest } from '../common/index.js';
import { withFields, type CliContext, type Command } from './command.js';
import { splitGlobals } from './root.js';

type Loader = () => Promise<{ command: Command }>;

const commands: Record<string, Loader> = {
  build: () => import('./commands/build.js'),
  parse: () => import('./commands/parse.js'),
  images: () => import('./commands/images.js'),
  inspect: () => import('./commands/inspect.js'),
  history: () => import('./commands/history.js'),
  tag: () => import('./commands/tag.js'),
  rmi: () => import('./commands/rmi.js'),
  save: () => import('./commands/save.js'),
  load: () => import('./commands/load.js'),
  import: () => import('./commands/import.js'),
  fsck: () => import('./commands/fsck.js'),
  info: () => import('./commands/info.js'),
  prune: () => import('./commands/prune.js'),
  system: () => import('./commands/system.js'),
  run: () => import('./commands/run.js'),
  ps: () => import('./commands/ps.js'),
  rm: () => import('./commands/rm.js'),
  commit: () => import('./commands/commit.js'),
  stop: () => import('./commands/stop.js'),
  start: () => import('./commands/start.js'),
  restart: () => import('./commands/restart.js'),
  kill: () => import('./commands/kill.js'),
  wait: () => import('./commands/wait.js'),
  logs: () => import('./commands/logs.js'),
  exec: () => import('./commands/exec.js'),
  cp: () => import('./commands/cp.js'),
  top: () => import('./commands/top.js'),
  diff: () => import('./commands/diff.js'),
  rename: () => import('./commands/rename.js'),
  container: () => import('./commands/container.js'),
  port: () => import('./commands/port.js'),
  volume: () => import('./commands/volume.js'),
  pull: () => import('./commands/pull.js'),
  push: () => import('./commands/push.js'),
  login: () => import('./commands/login.js'),
};

const USAGE = `Usage: tsbuild [--root DIR] COMMAND [OPTIONS]
       tsbuild [build] -t NAME[:TAG] [OPTIONS] CONTEXT

Commands:
  build     Build an image from a Dockerfile
  run       Run a command in a new container
  ps        List containers
  rm        Remove containers
  commit    Create a new image from a container's changes
  exec      Run a command in a running container
  logs      Print a detached container's output
  stop      Stop running containers (SIGTERM, then SIGKILL)
  start     Start stopped containers
  restart   Restart containers
  kill      Send a signal to containers
  wait      Wait for containers to stop, print their exit codes
  cp        Copy files between a container and the host
  top       Show a container's processes
  diff      Show a container's file changes
  rename    Rename a container
  container Manage containers (container prune)
  port      List a container's published ports
  volume    Manage named volumes
  images    List images
  inspect   Show an image's configuration as JSON
  history   Show the history of an image
  tag       Give an image another name
  rmi       Remove images
  save      Write images to a tar archive (docker or oci format)
  load      Load images from a tar archive
  import    Create an image from a root filesystem tarball
  info      Show what this machine offers tsbuild and what is missing
  pull      Download an image from a registry
  push      Upload an image to a registry
  login     Store credentials for a registry
  prune     Remove unused layers, blobs and cache
  system    Show the store's disk usage (system df)
  fsck      Check the store's consistency
  parse     Print a Dockerfile's parse tree

Run 'tsbuild COMMAND --help' for a command's options.`;

/**
 * `tsbuild WORD` without a verb builds the context WORD; a bare word that is no folder is a
 * mistyped or missing command (`tsbuild logs web1`), said as such instead of a build's error.
 */
function checkNotAVerb(word: string, cwd: string): void {
  if (!/^[a-z][a-z0-9-]*$/.test(word)) return;
  try {
    if (statSync(resolve(cwd, word)).isDirectory()) return;
  } catch {
    // no such folder: a command was meant
  }
  const near = suggest(word, Object.keys(commands));
  throw new UserError('unknown-command', `unknown command "${word}"`, {
    exitCode: 2,
    hint: `${near ? `did you mean ${near}? ` : ''}commands: ${Object.keys(commands).sort().join(', ')} (tsbuild --help lists them)`,
  });
}

/** What the machine, not tsbuild, caused: a full disk, a read-only or forbidden store. */
const ENVIRONMENT_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in system',
  EIO: 'input/output error',
};

/** An I/O error the user can act on becomes one line naming the path: `open /x/y: read-only file system`. */
function environmentError(err: unknown): UserError | undefined {
  const e = err as NodeJS.ErrnoException;
  const text = e && typeof e.code === 'string' ? ENVIRONMENT_ERRORS[e.code] : undefined;
  if (!text) return undefined;
  const what = [e.syscall, e.path].filter(Boolean).join(' ');
  return new UserError('io-error', `${what ? what + ': ' : ''}${text} (${e.code})`, {
    where: e.path,
    hint: e.code === 'EROFS' || e.code === 'EACCES' || e.code === 'EPERM' ? 'check that the store (--root) is writable by you' : undefined,
  });
}

async function printError(err: unknown, ctx: CliContext): Promise<number> {
  err = environmentError(err) ?? err;
  const errors = err instanceof UserErrors ? err.errors : err instanceof UserError ? [err] : undefined;
  if (!errors) {
    const e = err as Error;
    ctx.stderr.write(`${e?.stack ?? String(err)}\n\ntsbuild: this is a bug, please report it\n`);
    return 1;
  }
  const { renderError } = await import('./render-error.js');
  const sources = new Map<string, string>();
  for (const e of errors) {
    const file = typeof e.where === 'object' ? e.where.file : undefined;
    if (file && !sources.has(file)) {
      try {
        sources.set(file, readFileSync(file, 'utf8'));
      } catch {
        // The snippet is a courtesy: without the file the message still stands.
      }
    }
  }
  ctx.stderr.write(errors.map((e) => renderError(e, sources)).join('\n\n') + '\n');
  return errors[0].exitCode;
}

export async function main(argv: string[], base: Omit<CliContext, 'root'>): Promise<number> {
  const { root, rest } = splitGlobals(argv, base.env);
  const ctx: CliContext = withFields(base, { root });
  if (rest.length === 0 || rest[0] === '--help' || rest[0] === '-h' || rest[0] === 'help') {
    (rest.length === 0 ? ctx.stderr : ctx.stdout).write(USAGE + '\n');
    return rest.length === 0 ? 2 : 0;
  }
  if (rest[0] === '--version' || rest[0] === 'version') {
    ctx.stdout.write('tsbuild 0.1.0\n');
    return 0;
  }
  const verb = rest[0];
  const known = Object.hasOwn(commands, verb);
  const loader = known ? commands[verb] : commands.build;
  const args = known ? rest.slice(1) : rest;
  try {
    if (!known) checkNotAVerb(verb, ctx.cwd);
    const { command } = await loader();
    if (args.includes('--help') && !(verb === 'run' && args.indexOf('--help') > 0)) {
      ctx.stdout.write(`Usage: ${command.usage}\n\n${command.summary}\n`);
      return 0;
    }
    return await command.run(args, ctx);
  } catch (err) {
    return printError(err, ctx);
  }
}

