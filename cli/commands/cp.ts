import type { CliContext, Command } from '../command.js';
import { parseArgs, usageError } from '../args.js';

export const command: Command = {
  name: 'cp',
  usage: 'tsbuild cp CONTAINER:SRC_PATH DEST_PATH | SRC_PATH CONTAINER:DEST_PATH',
  summary: 'Copy files between a container and the host (modes and times kept).',
  run: cp,
};

async function cp(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, []);
  if (args.positionals.length !== 2) throw usageError('"cp" requires exactly 2 arguments: SRC DEST (one of them CONTAINER:PATH)');
  const { copyFiles, settingsFromEnv } = await import('../../engine/index.js');
  const [from, to] = args.positionals;
  await copyFiles({ from, to, cwd: ctx.cwd, store: ctx.root, settings: settingsFromEnv(ctx.env) });
  return 0;
}
