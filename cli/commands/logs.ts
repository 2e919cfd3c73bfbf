import type { CliContext, Command } from '../command.js';
import { boolOpt, parseArgs, stringOpt, usageError, type OptionSpec } from '../args.js';

const options: OptionSpec[] = [
  { name: 'follow', short: 'f', type: 'boolean' },
  { name: 'tail', short: 'n', type: 'string' },
  { name: 'timestamps', short: 't', type: 'boolean' },
];

export const command: Command = {
  name: 'logs',
  usage: 'tsbuild logs [-f] [--tail N] [-t] CONTAINER',
  summary: "Print a detached container's output (-f: keep following it until it stops).",
  run: logs,
};

async function logs(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, options);
  if (args.positionals.length !== 1) throw usageError('"logs" requires exactly 1 argument: CONTAINER');
  const tailText = stringOpt(args, 'tail') ?? 'all';
  if (tailText !== 'all' && !/^-?\d+$/.test(tailText)) throw usageError(`invalid value "${tailText}" for --tail: a number of lines or "all"`);
  const tail = tailText === 'all' || Number(tailText) < 0 ? undefined : Number(tailText);
  const { containerLogs, settingsFromEnv } = await import('../../engine/index.js');
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  try {
    await containerLogs({
      container: args.positionals[0],
      follow: boolOpt(args, 'follow'),
      tail,
      timestamps: boolOpt(args, 'timestamps'),
      onRecord: (stream, data) => (stream === 'stdout' ? ctx.stdout : ctx.stderr).write(data),
      signal: stop.signal,
      store: ctx.root,
      settings: settingsFromEnv(ctx.env),
    });
  } finally {
    process.off('SIGINT', onSignal);
  }
  return 0;
}
