import type { CliContext, Command } from '../command.js';
import { boolOpt, parseArgs, type OptionSpec } from '../args.js';
import type { ContainerRecord } from '../../store/containers.js';

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

/** Docker's units.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3600000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3600000 / 24 / 365)} years`;
}

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
  const { listContainers } = await import('../../store/containers.js');
  const now = Date.now();
  const all = boolOpt(args, 'all');
  const noTrunc = boolOpt(args, 'no-trunc');
  const shown = (await listContainers(ctx.root)).filter((c) => all || c.status.state === 'running');
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
  // Docker's tabwriter: columns padded to the widest cell plus 3 spaces.
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => [...r[i]].length)));
  for (const r of rows) {
    ctx.stdout.write(r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i] - [...cell].length + 3))).join('') + '\n');
  }
  return 0;
}
