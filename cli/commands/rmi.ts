import { UserError, throwCollected } from '../../common/index.js';
import { boolOpt, parseArgs, usageError } from '../args.js';
import type { Command } from '../command.js';
import type { Removal } from '../../engine/index.js';

/**
 * `tsbuild rmi [-f] IMAGE...` as Docker: a name is untagged, and the image is deleted when
 * that was its last name; an id deletes the image (with several names only with -f). An
 * image a container was made from is kept unless -f. Blobs are freed by `prune`.
 */
export const command: Command = {
  name: 'rmi',
  usage: 'tsbuild rmi [-f] IMAGE [IMAGE...]',
  summary: 'Remove images',
  async run(argv, ctx) {
    const args = parseArgs(argv, [
      { name: 'force', short: 'f', type: 'boolean' },
      { name: 'no-prune', type: 'boolean' },
    ]);
    if (args.positionals.length === 0) throw usageError('"rmi" requires at least 1 argument');
    const force = boolOpt(args, 'force');
    const { removeImage, openStore, settingsFromEnv, parseReference, familiarName } = await import('../../engine/index.js');
    const store = await openStore(ctx.root);
    const settings = settingsFromEnv(ctx.env);
    const print = (r: Removal) =>
      ctx.stdout.write('untagged' in r ? `Untagged: ${familiarName(parseReference(r.untagged))}\n` : `Deleted: ${r.deleted}\n`);
    const errors: UserError[] = [];
    for (const ref of args.positionals) {
      try {
        await removeImage({ image: ref, force, store, settings, onRemoved: print });
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        errors.push(e);
      }
    }
    throwCollected(errors);
    return 0;
  },
};
