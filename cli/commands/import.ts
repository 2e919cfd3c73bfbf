import { listOpt, parseArgs, stringOpt, usageError } from '../args.js';
import type { Command } from '../command.js';

/** `tsbuild import ROOTFS.tar|- [REF]` (like `docker import`): prints the new image id. */
export const command: Command = {
  name: 'import',
  usage: "tsbuild import [-m MESSAGE] [-c 'CMD [\"sh\"]']... [--platform OS/ARCH[/VARIANT]] FILE|- [REPOSITORY[:TAG]]",
  summary: 'Create an image from a root filesystem tarball',
  async run(argv, ctx) {
    const args = parseArgs(argv, [
      { name: 'message', short: 'm', type: 'string' },
      { name: 'change', short: 'c', type: 'string', multiple: true },
      { name: 'platform', type: 'string' },
    ]);
    if (args.positionals.length < 1 || args.positionals.length > 2) throw usageError('"import" requires 1 or 2 arguments');
    const [file, ref] = args.positionals;
    const { importImage, settingsFromEnv } = await import('../../engine/index.js');
    const img = await importImage({
      from: file === '-' ? ctx.stdin : file,
      ref,
      message: stringOpt(args, 'message'),
      changes: listOpt(args, 'change'),
      platform: stringOpt(args, 'platform'),
      store: ctx.root,
      settings: settingsFromEnv(ctx.env),
      cwd: ctx.cwd,
    });
    ctx.stdout.write(img.id + '\n');
    return 0;
  },
};
