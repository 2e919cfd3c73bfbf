import { UserError, throwCollected } from '../../common/index.js';
import type { CliContext, Command } from '../command.js';
import { boolOpt, parseArgs, stringOpt, usageError } from '../args.js';
import { humanSize } from '../format.js';
import { renderRows } from '../format-option.js';
import { volumeJson } from '../volume-inspect.js';
import { compile } from '../format-option.js';

export const command: Command = {
  name: 'volume',
  usage: 'tsbuild volume ls [-q] [--format T] | inspect [-f T] NAME... | create NAME | rm [-f] NAME... | prune [-f]',
  summary: 'Manage named volumes (run -v NAME:/path).',
  run: volume,
};

/** docker/cli formatter/volume.go. */
const HEADERS = { Driver: 'DRIVER', Name: 'VOLUME NAME', Mountpoint: 'MOUNTPOINT', Scope: 'SCOPE', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE' };

async function volume(argv: string[], ctx: CliContext): Promise<number> {
  const [verb, ...rest] = argv;
  const engine = await import('../../engine/index.js');
  const common = { store: ctx.root, settings: engine.settingsFromEnv(ctx.env) };
  switch (verb) {
    case 'ls':
    case 'list': {
      const args = parseArgs(rest, [{ name: 'quiet', short: 'q', type: 'boolean' }, { name: 'format', type: 'string' }]);
      const vols = await engine.listVolumes(common);
      if (boolOpt(args, 'quiet')) return ctx.stdout.write(vols.map((v) => v.name + '\n').join('')), 0;
      const rows = vols.map((v) => ({ Driver: 'local', Name: v.name, Mountpoint: v.mountpoint, Scope: 'local', Labels: '', Links: 'N/A', Size: 'N/A' }));
      ctx.stdout.write(renderRows(stringOpt(args, 'format'), rows, { defaultTable: '{{.Driver}}\t{{.Name}}', headers: HEADERS }));
      return 0;
    }
    case 'create': {
      const args = parseArgs(rest, []);
      if (args.positionals.length !== 1) throw usageError('"volume create" requires exactly 1 argument: NAME');
      ctx.stdout.write((await engine.createVolume({ ...common, name: args.positionals[0] })).name + '\n');
      return 0;
    }
    case 'inspect': {
      const args = parseArgs(rest, [{ name: 'format', short: 'f', type: 'string' }]);
      if (args.positionals.length === 0) throw usageError('"volume inspect" requires at least 1 argument');
      const shown = [];
      const errors: UserError[] = [];
      for (const name of args.positionals) {
        try {
          const v = await engine.inspectVolume({ ...common, name });
          shown.push(volumeJson(v));
        } catch (e) {
          if (!(e instanceof UserError)) throw e;
          errors.push(e);
        }
      }
      const format = stringOpt(args, 'format');
      if (format !== undefined) {
        const t = compile(format, 'zero');
        ctx.stdout.write(shown.map((v) => t.execute(v) + '\n').join(''));
      } else ctx.stdout.write(JSON.stringify(shown, null, 4) + '\n');
      throwCollected(errors);
      return 0;
    }
    case 'rm':
    case 'remove': {
      const args = parseArgs(rest, [{ name: 'force', short: 'f', type: 'boolean' }]);
      if (args.positionals.length === 0) throw usageError('"volume rm" requires at least 1 argument');
      const errors: UserError[] = [];
      for (const name of args.positionals) {
        try {
          await engine.removeVolume({ ...common, name, force: boolOpt(args, 'force') });
          ctx.stdout.write(name + '\n');
        } catch (e) {
          if (!(e instanceof UserError)) throw e;
          errors.push(e);
        }
      }
      throwCollected(errors);
      return 0;
    }
    case 'prune': {
      const args = parseArgs(rest, [{ name: 'force', short: 'f', type: 'boolean' }, { name: 'all', short: 'a', type: 'boolean' }]);
      if (!boolOpt(args, 'force')) throw usageError('"volume prune" asks before removing: pass -f to remove every volume no container uses');
      const r = await engine.pruneVolumes(common);
      if (r.deleted.length > 0) ctx.stdout.write(`Deleted Volumes:\n${r.deleted.join('\n')}\n\n`);
      ctx.stdout.write(`Total reclaimed space: ${humanSize(r.reclaimedBytes)}\n`);
      return 0;
    }
    default:
      throw usageError('"volume" needs a command: ls, inspect, create, rm, prune');
  }
}
