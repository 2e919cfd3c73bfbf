import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { UserError, ioMessage } from '../../common/index.js';
import { parseArgs, stringOpt, usageError } from '../args.js';
import type { Command } from '../command.js';

/** `tsbuild save [-o FILE] [--format docker|oci] IMAGE...`: to FILE (written whole, then renamed) or stdout. */
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
    const path = resolve(ctx.cwd, output);
    const tmp = join(dirname(path), `.${basename(path)}.tsbuild-${process.pid}`);
    try {
      const out = createWriteStream(tmp, { flags: 'wx' });
      const done = finished(out);
      await saveImages(store, args.positionals, out, { format });
      await done;
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      if (e instanceof UserError) throw e;
      throw new UserError('save-failed', ioMessage(`save: write ${output}`, e), { where: output });
    }
    return 0;
  },
};
