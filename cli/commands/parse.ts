import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UserError } from '../../common/index.js';
import type { Command, CliContext } from '../command.js';
import { boolOpt, parseArgs, stringOpt, usageError } from '../args.js';

export const command: Command = {
  name: 'parse',
  usage: 'tsbuild parse [--json] [-f Dockerfile]',
  summary: "Print a Dockerfile's parse tree: BuildKit's dump format, or JSON with --json.",
  run: parse,
};

async function parse(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, [
    { name: 'json', type: 'boolean' },
    { name: 'file', short: 'f', type: 'string' },
  ]);
  if (args.positionals.length > 1) throw usageError('"parse" takes at most one argument (a Dockerfile)');
  const file = stringOpt(args, 'file') ?? args.positionals[0] ?? 'Dockerfile';
  const path = resolve(ctx.cwd, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UserError('dockerfile-missing', `failed to read dockerfile: open ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`, { where: file });
  }
  const { parseRaw, dumpBuildkit, rawToJson } = await import('../../parser/index.js');
  const raw = parseRaw(text, path);
  ctx.stdout.write(boolOpt(args, 'json') ? JSON.stringify(rawToJson(raw), null, 2) + '\n' : dumpBuildkit(raw));
  return 0;
}
