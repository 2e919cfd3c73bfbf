import type { CliContext, Command } from '../command.js';
import { boolOpt, listOpt, parseArgs, stringOpt, usageError, type OptionSpec } from '../args.js';
import { openStore, type ContainerRecord } from '../../store/index.js';
import { humanDuration } from '../format.js';
import { goTime, parseFilters, renderRows } from '../format-option.js';

const options: OptionSpec[] = [
  { name: 'all', short: 'a', type: 'boolean' },
  { name: 'quiet', short: 'q', type: 'boolean' },
  { name: 'no-trunc', type: 'boolean' },
  { name: 'filter', short: 'f', type: 'string', multiple: true },
  { name: 'format', type: 'string' },
];

/** docker/cli formatter/container.go: the fields of a row and their titles. */
const HEADERS = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Names: 'NAMES',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  Networks: 'NETWORKS',
  LocalVolumes: 'LOCAL VOLUMES',
};
const DEFAULT_TABLE = '{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
const STATES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

export const command: Command = {
  name: 'ps',
  usage: 'tsbuild ps [-a] [-q] [--no-trunc] [--filter status=S|name=N|id=ID|exited=CODE]... [--format TEMPLATE]',
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
  const filters = parseFilters(listOpt(args, 'filter'), ['status', 'name', 'id', 'exited']);
  for (const st of filters.get('status') ?? [])
    if (!STATES.includes(st)) throw usageError(`invalid filter 'status=${st}': want one of ${STATES.join(', ')}`);
  for (const code of filters.get('exited') ?? []) if (!/^\d+$/.test(code)) throw usageError(`invalid filter 'exited=${code}': want an exit code`);
  // Docker: a status or exited filter looks at every container, as -a does
  const all = boolOpt(args, 'all') || filters.has('status') || filters.has('exited');
  const noTrunc = boolOpt(args, 'no-trunc');
  const shown = (await (await openStore(ctx.root)).containers.list())
    .filter((c) => all || c.status.state === 'running')
    .filter((c) => matchesFilters(c, filters));
  if (boolOpt(args, 'quiet')) {
    for (const c of shown) ctx.stdout.write((noTrunc ? c.id : c.id.slice(0, 12)) + '\n');
    return 0;
  }
  const rows = shown.map((c) => ({
    ID: noTrunc ? c.id : c.id.slice(0, 12),
    Image: c.image.name,
    Command: commandText(c.command, noTrunc),
    CreatedAt: goTime(c.created),
    RunningFor: `${since(c.created, now)} ago`,
    // Go's net.JoinHostPort: [::]:8080 (engine's hostPortText; not imported, ps loads no engine)
    Ports: (c.ports ?? []).map((p) => `${p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp}:${p.hostPort}->${p.containerPort}/${p.proto}`).join(', '),
    State: c.status.state,
    Status: statusText(c, now),
    Size: '',
    Names: c.name,
    Labels: '',
    Mounts: '',
    Networks: '',
    LocalVolumes: '0',
  }));
  ctx.stdout.write(renderRows(stringOpt(args, 'format'), rows, { defaultTable: DEFAULT_TABLE, headers: HEADERS }));
  return 0;
}

/** Docker's rules: name is a regular expression over the name, id a prefix; each key must match one of its values. */
function matchesFilters(c: ContainerRecord, filters: Map<string, string[]>): boolean {
  const any = (key: string, test: (v: string) => boolean) => !filters.has(key) || filters.get(key)!.some(test);
  return (
    any('status', (v) => v === c.status.state) &&
    any('name', (v) => safeRegExp(v).test(c.name)) &&
    any('id', (v) => c.id.startsWith(v)) &&
    any('exited', (v) => c.status.state === 'exited' && c.status.code === Number(v))
  );
}

function safeRegExp(text: string): RegExp {
  try {
    return new RegExp(text);
  } catch {
    throw usageError(`invalid filter 'name=${text}': not a regular expression`);
  }
}
