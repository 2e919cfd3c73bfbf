import { UserError } from '../../common/index.js';
import type { CliContext, Command } from '../command.js';
import { parseArgs, usageError } from '../args.js';

export const command: Command = {
  name: 'port',
  usage: 'tsbuild port CONTAINER [PRIVATE_PORT[/PROTO]]',
  summary: "List a container's published ports (run -p).",
  run: port,
};

async function port(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, []);
  const [ref, wanted] = args.positionals;
  if (ref === undefined || args.positionals.length > 2) throw usageError('"port" requires 1 or 2 arguments: CONTAINER [PRIVATE_PORT[/PROTO]]');
  const { findContainer, hostPortText, openStore } = await import('../../engine/index.js');
  const c = await findContainer(await openStore(ctx.root), ref);
  const ports = c.ports ?? [];
  if (wanted === undefined) {
    ctx.stdout.write(ports.map((p) => `${p.containerPort}/${p.proto} -> ${hostPortText(p)}\n`).join(''));
    return 0;
  }
  const [num, proto = 'tcp'] = wanted.split('/');
  const hits = ports.filter((p) => String(p.containerPort) === num && p.proto === proto);
  if (hits.length === 0) throw new UserError('no-public-port', `No public port '${num}/${proto}' published for ${ref}`, { where: ref });
  ctx.stdout.write(hits.map((p) => `${hostPortText(p)}\n`).join(''));
  return 0;
}
