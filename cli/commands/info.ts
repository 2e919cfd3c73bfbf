import { parseArgs, usageError } from '../args.js';
import type { Command } from '../command.js';

/**
 * `tsbuild info`: the environment tsbuild finds (mode, user namespaces, snapshots, cgroups,
 * network helper, binfmt handlers, store), then one line per missing prerequisite with its
 * fix; exit 1 when something is missing.
 */
export const command: Command = {
  name: 'info',
  usage: 'tsbuild info',
  summary: 'Show what this machine offers (root or rootless, overlay, cgroups, network) and what is missing',
  async run(argv, ctx) {
    const args = parseArgs(argv, []);
    if (args.positionals.length > 0) throw usageError('"info" accepts no arguments');
    const { environmentInfo, settingsFromEnv } = await import('../../engine/index.js');
    const info = await environmentInfo({ ...settingsFromEnv(ctx.env), root: ctx.root });
    const width = Math.max(...info.facts.map(([k]) => k.length)) + 2;
    for (const [k, v] of info.facts) ctx.stdout.write(`${`${k}:`.padEnd(width)}${v}\n`);
    for (const m of info.missing) ctx.stdout.write(`missing: ${m}\n`);
    return info.missing.length > 0 ? 1 : 0;
  },
};
