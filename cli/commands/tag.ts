import { UserError } from '../../common/index.js';
import { parseArgs, usageError } from '../args.js';
import type { Command } from '../command.js';

/** `tsbuild tag SRC DST`: another name for an image (moved off any image that had it). */
export const command: Command = {
  name: 'tag',
  usage: 'tsbuild tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  summary: 'Give an image another name',
  async run(argv, ctx) {
    const args = parseArgs(argv, []);
    if (args.positionals.length !== 2) throw usageError('"tag" requires exactly 2 arguments');
    const [src, dst] = args.positionals;
    const { openStore, normaliseName, parseReference } = await import('../../store/index.js');
    if (parseReference(dst).digest !== undefined) throw usageError(`refusing to create a tag with a digest reference: ${dst}`);
    const target = normaliseName(dst);
    const store = await openStore(ctx.root);
    const img = await store.resolveImage(src);
    if (!img) throw new UserError('image-not-found', `No such image: ${src}`, { where: src });
    // A multi-platform image is tagged as a whole: the name points at its index.
    await store.tag(img.index?.digest ?? img.id, target);
    return 0;
  },
};
