import { parseArgs, stringOpt, usageError } from '../args.js';
import type { Command } from '../command.js';
import { COMPRESSION_USAGE, compressionFlags, compressionOptions } from '../compression-flags.js';
import { INTERRUPTED_EXIT, catchInterrupts } from '../interrupt.js';

/** `tsbuild save [-o FILE] [--format docker|oci] IMAGE...`: to FILE (named only once complete) or stdout. */
export const command: Command = {
  name: 'save',
  usage: `tsbuild save [-o FILE] [--format docker|oci] [--platform OS/ARCH[/VARIANT]] ${COMPRESSION_USAGE} IMAGE [IMAGE...]`,
  summary: 'Write images to a tar archive (docker or oci format)',
  async run(argv, ctx) {
    const args = parseArgs(argv, [
      { name: 'output', short: 'o', type: 'string' },
      { name: 'format', type: 'string' },
      { name: 'platform', type: 'string' },
      ...compressionOptions,
    ]);
    if (args.positionals.length === 0) throw usageError('"save" requires at least 1 argument');
    const format = stringOpt(args, 'format') ?? 'docker';
    if (format !== 'docker' && format !== 'oci') throw usageError(`invalid --format "${format}": want docker or oci`);
    const flags = compressionFlags(args);
    // docker-archive layers go as stored (what `docker load` reads): only oci compresses.
    if (flags.compression && format !== 'oci') throw usageError('--compression applies to --format oci');
    const output = stringOpt(args, 'output');
    if (output === undefined && ctx.stdout.isTTY) {
      throw usageError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    }
    const { save, settingsFromEnv } = await import('../../engine/index.js');
    const call = { images: args.positionals, format, platform: stringOpt(args, 'platform'), store: ctx.root, settings: settingsFromEnv(ctx.env), cwd: ctx.cwd, ...flags } as const;
    if (output === undefined) {
      await save({ ...call, to: ctx.stdout });
      return 0;
    }
    const interrupts = catchInterrupts(ctx.stderr);
    try {
      await save({ ...call, to: output, signal: interrupts.signal });
    } catch (e) {
      if (interrupts.signal.aborted) return INTERRUPTED_EXIT; // Ctrl-C: nothing was written
      throw e;
    } finally {
      interrupts.dispose();
    }
    return 0;
  },
};
