import type { CliContext, Command } from '../command.js';
import { boolOpt, parseArgs, type OptionSpec } from '../args.js';
import { openStore, type ContainerRecord } from '../../store/index.js';
import { humanDuration, renderTable } from '../format.js';

const options: OptionSpec[] = [
  { name: 'all', short: 'a', type: 'boolean' },
  { name: 'quiet', short: 'q', type: 'boolean' },
  { name: 'no-trunc', type: 'boolean' },
];

export const command: Command = {
  name: 'ps',
  usage: 'tsbuild ps [-a] [-q] [--no-trunc]',
  summary: 'List containers (running ones; -a for all).',
  run: ps,
};

function since(iso: string | undefined, now: number): string {
  return iso ? humanDuration(now - Date.parse(iso)) : '';
}

export function statusText(c: ContainerRecord, now: number): string {
  switch (c.status.state) {
    case 'created':
      return 'Created';
    case 'running':
      return `Up ${since(c.startedAt ?? c.created, now)}`;
    case 'exited': {
      const code = c.status.code === undefined ? 'unknown' : String(c.status.code);
      return c.status.finishedAt ? `Exited (${code}) ${since(c.status.finishedAt, now)} ago` : `Exited (${code})`;
    }
  }
}

/** Docker quotes the command and cuts it to 20 characters with an ellipsis. */
export function commandText(argv: string[], noTrunc: boolean): string {
  const text = argv.join(' ');
  return `"${noTrunc || text.length <= 20 ? text : text.slice(0, 19) + '…'}"`;
}

async function ps(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, options);
  const now = Date.now();
  const all = boolOpt(args, 'all');
  const noTrunc = boolOpt(args, 'no-trunc');
  const shown = (await (await openStore(ctx.root)).containers.list()).filter((c) => all || c.status.state === 'running');
  if (boolOpt(args, 'quiet')) {
    for (const c of shown) ctx.stdout.write((noTrunc ? c.id : c.id.slice(0, 12)) + '\n');
    return 0;
  }
  const rows = [
    ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'NAMES'],
    ...shown.map((c) => [
      noTrunc ? c.id : c.id.slice(0, 12),
      c.image.name,
      commandText(c.command, noTrunc),
      `${since(c.created, now)} ago`,
      statusText(c, now),
      c.name,
    ]),
  ];
  ctx.stdout.write(renderTable(rows));
  return 0;
}
