import { resolve } from 'node:path';
import { UserError, ioMessage } from '../../common/index.js';
import { parseArgs, stringOpt, usageError } from '../args.js';
import type { Command } from '../command.js';
import { INTERRUPTED_EXIT, catchInterrupts } from '../interrupt.js';
import { writeOutputFile } from '../output-file.js';

/** `tsbuild save [-o FILE] [--format docker|oci] IMAGE...`: to FILE (named only once complete) or stdout. */
export const command: Command = {
  name: 'save',
  usage: 'tsbuild save [-o FILE] [--format docker|oci] IMAGE [IMAGE...]',
  summary: 'Write images to a tar archive (docker or oci format)',
  async run(argv, ctx) {
    const args = parseArgs(argv, [
      { name: 'output', short: 'o', type: 'string' },
      { name: 'format', type: 'string' },
    ]);
    if (args.positionals.length === 0) throw usageError('"save" requires at least 1 argument');
    const format = stringOpt(args, 'format') ?? 'docker';
    if (format !== 'docker' && format !== 'oci') throw usageError(`invalid --format "${format}": want docker or oci`);
    const output = stringOpt(args, 'output');
    if (output === undefined && ctx.stdout.isTTY) {
      throw usageError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    }
    const { openStore, saveImages } = await import('../../store/index.js');
    const store = await openStore(ctx.root);
    if (output === undefined) {
      await saveImages(store, args.positionals, ctx.stdout, { format });
      return 0;
    }
    const interrupts = catchInterrupts(ctx.stderr);
    try {
      await writeOutputFile(resolve(ctx.cwd, output), (out) => saveImages(store, args.positionals, out, { format }), interrupts.signal);
    } catch (e) {
      if (interrupts.signal.aborted) return INTERRUPTED_EXIT; // Ctrl-C: nothing was written
      if (e instanceof UserError) throw e;
      throw new UserError('save-failed', ioMessage(`save: write ${output}`, e), { where: output });
    } finally {
      interrupts.dispose();
    }
    return 0;
  },
};
