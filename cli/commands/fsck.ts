import { parseArgs, usageError } from '../args.js';
import type { Command } from '../command.js';

/** `tsbuild fsck`: check the store; one line per problem, exit 1 if there is any. */
export const command: Command = {
  name: 'fsck',
  usage: 'tsbuild fsck',
  summary: "Check the store's consistency",
  async run(argv, ctx) {
    const args = parseArgs(argv, []);
    if (args.positionals.length > 0) throw usageError('"fsck" accepts no arguments');
    const { openStore, fsck } = await import('../../store/index.js');
    const store = await openStore(ctx.root);
    const report = await fsck(store.root);
    for (const p of report.problems) ctx.stdout.write(`${p}\n`);
    if (report.problems.length > 0) {
      ctx.stderr.write(`fsck: ${report.problems.length} problem(s) in ${store.root}\n`);
      return 1;
    }
    ctx.stdout.write(`fsck: ${report.images} images, ${report.blobsChecked} blobs checked: ok\n`);
    return 0;
  },
};
