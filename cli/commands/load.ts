import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { UserError } from '../../common/index.js';
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
    let src: Readable;
    if (input !== undefined) {
      const path = resolve(ctx.cwd, input);
      try {
        await access(path);
      } catch {
        throw new UserError('file-not-found', `open ${input}: no such file or directory`, { where: input });
      }
      src = createReadStream(path);
    } else {
      if (ctx.stdin.isTTY) throw usageError('requested load from stdin, but stdin is empty (use -i FILE)');
      src = ctx.stdin;
    }
    const { openStore, loadArchive, parseReference, familiarName } = await import('../../store/index.js');
    const store = await openStore(ctx.root);
    const loaded = await loadArchive(store, src);
    // -q only silences progress in Docker (we print none): the result lines stay
    for (const img of loaded) {
      if (img.names.length === 0) ctx.stdout.write(`Loaded image ID: ${img.id}\n`);
      for (const n of img.names) ctx.stdout.write(`Loaded image: ${familiarName(parseReference(n))}\n`);
    }
    return 0;
  },
};
