import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { UserError } from '../../common/index.js';
import { listOpt, parseArgs, stringOpt, usageError } from '../args.js';
import type { Command } from '../command.js';

/** `tsbuild import ROOTFS.tar|- [REF]` (like `docker import`): prints the new image id. */
export const command: Command = {
  name: 'import',
  usage: "tsbuild import [-m MESSAGE] [-c 'CMD [\"sh\"]']... FILE|- [REPOSITORY[:TAG]]",
  summary: 'Create an image from a root filesystem tarball',
  async run(argv, ctx) {
    const args = parseArgs(argv, [
      { name: 'message', short: 'm', type: 'string' },
      { name: 'change', short: 'c', type: 'string', multiple: true },
    ]);
    const { configEditsOf, applyConfigEdit } = await import('../../planner/index.js');
    const edits = await configEditsOf(listOpt(args, 'change'));
    if (args.positionals.length < 1 || args.positionals.length > 2) throw usageError('"import" requires 1 or 2 arguments');
    const [file, ref] = args.positionals;
    const { openStore, importRootfs, normaliseName } = await import('../../store/index.js');
    const names = ref !== undefined ? [normaliseName(ref)] : [];
    let src: Readable;
    if (file === '-') src = ctx.stdin;
    else {
      const path = resolve(ctx.cwd, file);
      try {
        await access(path);
      } catch {
        throw new UserError('file-not-found', `open ${file}: no such file or directory`, { where: file });
      }
      src = createReadStream(path);
    }
    const store = await openStore(ctx.root);
    const comment = stringOpt(args, 'message') ?? 'Imported from -';
    let img = await importRootfs(store, src, { names: edits.length ? [] : names, comment });
    if (edits.length) {
      // --change: the same layer under a config with the changes applied (as docker import -c).
      let config = img.config.config ?? {};
      for (const e of edits) config = applyConfigEdit(config, e);
      const plain = img.id;
      img = await store.writeImage({ config: { ...img.config, config }, layers: img.manifest.layers, names });
      if (plain !== img.id) await store.removeImage(plain);
    }
    ctx.stdout.write(img.id + '\n');
    return 0;
  },
};
