import type { CliContext, Command } from '../command.js';
import { boolOpt, parseArgs, usageError, type OptionSpec } from '../args.js';
import { humanSize } from '../format.js';

const options: OptionSpec[] = [{ name: 'force', short: 'f', type: 'boolean' }];

/** `container VERB`: Docker's management form; the verbs are the top-level ones. */
const VERBS: Record<string, () => Promise<{ command: Command }>> = {
  ls: () => import('./ps.js'),
  ps: () => import('./ps.js'),
  rm: () => import('./rm.js'),
  run: () => import('./run.js'),
  start: () => import('./start.js'),
  stop: () => import('./stop.js'),
  restart: () => import('./restart.js'),
  kill: () => import('./kill.js'),
  wait: () => import('./wait.js'),
  logs: () => import('./logs.js'),
  exec: () => import('./exec.js'),
  cp: () => import('./cp.js'),
  top: () => import('./top.js'),
  diff: () => import('./diff.js'),
  rename: () => import('./rename.js'),
  port: () => import('./port.js'),
  commit: () => import('./commit.js'),
  inspect: () => import('./inspect.js'),
};

export const command: Command = {
  name: 'container',
  usage: `tsbuild container prune [-f] | container ${Object.keys(VERBS).join('|')} ...`,
  summary: 'Manage containers (prune removes every stopped one).',
  run: container,
};

async function container(argv: string[], ctx: CliContext): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === 'prune') return prune(rest, ctx);
  if (verb === 'inspect') return (await import('./inspect.js')).command.run(['--type', 'container', ...rest], ctx);
  const load = verb !== undefined && Object.hasOwn(VERBS, verb) ? VERBS[verb] : undefined;
  if (!load) throw usageError(`"container" needs a command: prune, ${Object.keys(VERBS).join(', ')}`);
  return (await load()).command.run(rest, ctx);
}

async function prune(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, options);
  if (args.positionals.length > 0) throw usageError('"container prune" accepts no arguments');
  if (!boolOpt(args, 'force')) {
    ctx.stdout.write('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
    if (!(await confirmed(ctx))) return 0;
  }
  const { pruneContainers, settingsFromEnv } = await import('../../engine/index.js');
  const r = await pruneContainers({ store: ctx.root, settings: settingsFromEnv(ctx.env) });
  if (r.deleted.length > 0) ctx.stdout.write(`Deleted Containers:\n${r.deleted.join('\n')}\n\n`);
  ctx.stdout.write(`Total reclaimed space: ${humanSize(r.reclaimedBytes)}\n`);
  return 0;
}

/** One line of stdin, `y` or `yes` (Docker's prompt). */
function confirmed(ctx: CliContext): Promise<boolean> {
  return new Promise((resolve) => {
    let text = '';
    const done = (answer: boolean) => {
      ctx.stdin.off('data', onData);
      ctx.stdin.off('end', onEnd);
      ctx.stdin.pause();
      resolve(answer);
    };
    const onData = (b: Buffer) => {
      text += b.toString('utf8');
      if (text.includes('\n')) done(/^\s*y(es)?\s*$/i.test(text.split('\n')[0]));
    };
    const onEnd = () => done(/^\s*y(es)?\s*$/i.test(text));
    ctx.stdin.on('data', onData);
    ctx.stdin.on('end', onEnd);
  });
}
