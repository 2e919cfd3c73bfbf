import { parseArgs, usageError } from '../args.js';
import type { Command } from '../command.js';

/**
 * `tsbuild fsck [--repair]`: check the store; one line per problem, exit 1 if there is any.
 * It opens the store without the mode repair every other command's open does, so it can
 * report modes that let other users in; --repair fixes them.
 */
export const command: Command = {
  name: 'fsck',
  usage: 'tsbuild fsck [--repair]',
  summary: "Check the store's consistency (--repair: fix modes that let other users in)",
  async run(argv, ctx) {
    const args = parseArgs(argv, [{ name: 'repair', type: 'boolean' }]);
    if (args.positionals.length > 0) throw usageError('"fsck" accepts no arguments');
    const { openStore } = await import('../../store/index.js');
    const store = await openStore(ctx.root, { isRepairingModes: false });
    const report = await store.fsck({ repair: args.options.repair === true });
    for (const r of report.repaired) ctx.stdout.write(`${r}\n`);
    for (const p of report.problems) ctx.stdout.write(`${p}\n`);
    if (report.problems.length > 0) {
      ctx.stderr.write(`fsck: ${report.problems.length} problem(s) in ${ctx.root}\n`);
      return 1;
    }
    ctx.stdout.write(`fsck: ${report.images} images, ${report.blobsChecked} blobs checked: ok\n`);
    return 0;
  },
};
