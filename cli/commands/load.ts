import { parseArgs, stringOpt, usageError } from '../args.js';
import type { Command } from '../command.js';

/** `tsbuild load [-i FILE]`: docker-archive or OCI archive, from FILE or stdin. */
export const command: Command = {
  name: 'load',
  usage: 'tsbuild load [-i FILE] [-q]',
  summary: 'Load images from a tar archive (docker or oci format)',
  async run(argv, ctx) {
    const args = parseArgs(argv, [
      { name: 'input', short: 'i', type: 'string' },
      { name: 'quiet', short: 'q', type: 'boolean' },
    ]);
    if (args.positionals.length > 0) throw usageError('"load" accepts no arguments (use -i FILE or stdin)');
    const input = stringOpt(args, 'input');
    if (input === undefined && ctx.stdin.isTTY) throw usageError('requested load from stdin, but stdin is empty (use -i FILE)');
    const { load, settingsFromEnv, parseReference, familiarName } = await import('../../engine/index.js');
    const loaded = await load({ from: input ?? ctx.stdin, store: ctx.root, settings: settingsFromEnv(ctx.env), cwd: ctx.cwd });
    // -q only silences progress in Docker (we print none): the result lines stay
    for (const img of loaded) {
      if (img.names.length === 0) ctx.stdout.write(`Loaded image ID: ${img.id}\n`);
      for (const n of img.names) ctx.stdout.write(`Loaded image: ${familiarName(parseReference(n))}\n`);
    }
    return 0;
  },
};
