import { UserError, throwCollected, shortId, type Digest } from '../../common/index.js';
import { boolOpt, parseArgs, usageError } from '../args.js';
import type { Command } from '../command.js';
import type { Store } from '../../store/index.js';

/** Ids of images that containers (running or stopped) were created from, with one such container. */
async function imagesInUse(store: Store): Promise<Map<string, string>> {
  return new Map((await store.containers.list()).map((c) => [c.image.id, c.id]));
}

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
    const { openStore, parseReference, familiarName, nameAmong } = await import('../../store/index.js');
    const store = await openStore(ctx.root);
    const inUse = await imagesInUse(store);
    const errors: UserError[] = [];
    for (const ref of args.positionals) {
      try {
        const img = await store.resolveImage(ref);
        if (!img) throw new UserError('image-not-found', `No such image: ${ref}`, { where: ref });
        const byName = nameAmong(ref, img.names);
        const deleting = byName === undefined || img.names.length <= 1;
        if (deleting && !force && inUse.has(img.id)) {
          const container = inUse.get(img.id)!.slice(0, 12);
          // Docker's two texts (daemon/images/image_delete.go): by the last name, or by id.
          const message =
            byName !== undefined
              ? `conflict: unable to remove repository reference ${JSON.stringify(ref)} (must force) - container ${container} is using its referenced image ${shortId(img.id)}`
              : `conflict: unable to delete ${shortId(img.id)} (must be forced) - image is being used by container ${container}`;
          throw new UserError('image-in-use', message, { where: ref, hint: 'remove the container first (tsbuild rm), or use rmi -f' });
        }
        if (byName !== undefined) {
          await store.untag(byName);
          ctx.stdout.write(`Untagged: ${familiarName(parseReference(byName))}\n`);
          if (img.names.length > 1) continue;
        } else {
          if (img.names.length > 1 && !force) {
            throw new UserError('image-conflict', `conflict: unable to delete ${shortId(img.id)} (must be forced) - image is referenced in multiple repositories`, { where: ref });
          }
          for (const n of img.names) {
            await store.untag(n);
            ctx.stdout.write(`Untagged: ${familiarName(parseReference(n))}\n`);
          }
        }
        await store.removeImage(img.id as Digest);
        ctx.stdout.write(`Deleted: ${img.id}\n`);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        errors.push(e);
      }
    }
    throwCollected(errors);
    return 0;
  },
};
