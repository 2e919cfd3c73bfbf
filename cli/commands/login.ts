import { text } from 'node:stream/consumers';
import type { CliContext, Command } from '../command.js';
import { boolOpt, listOpt, parseArgs, stringOpt, usageError, type OptionSpec } from '../args.js';

const options: OptionSpec[] = [
  { name: 'username', short: 'u', type: 'string' },
  { name: 'password', short: 'p', type: 'string' },
  { name: 'password-stdin', type: 'boolean' },
  { name: 'insecure-registry', type: 'string', multiple: true },
];

export const command: Command = {
  name: 'login',
  usage: 'tsbuild login [-u USER] [-p PASSWORD | --password-stdin] [REGISTRY]',
  summary: 'Check credentials against a registry and store them in ~/.docker/config.json ($DOCKER_CONFIG).',
  run: login,
};

async function login(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, options);
  if (args.positionals.length > 1) throw usageError('"login" requires at most 1 argument');
  const username = stringOpt(args, 'username');
  let password = stringOpt(args, 'password');
  if (boolOpt(args, 'password-stdin')) {
    if (password !== undefined) throw usageError('--password and --password-stdin are mutually exclusive');
    if (username === undefined) throw usageError('Must provide --username with --password-stdin');
    // Docker trims the trailing newline (and only whitespace at the ends) of a piped password.
    password = (await text(ctx.stdin)).replace(/[\r\n]+$/, '');
  } else if (password !== undefined) {
    ctx.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  }
  if (username === undefined || password === undefined || password === '') {
    throw usageError('login needs -u USER and a password (-p PASSWORD or --password-stdin): interactive prompts are not supported');
  }
  const { login: loginTo, registrySettings } = await import('../../engine/index.js');
  await loginTo({
    ...registrySettings(ctx.env, listOpt(args, 'insecure-registry')),
    registry: args.positionals[0] ?? 'docker.io',
    username,
    password,
  });
  ctx.stdout.write('Login Succeeded\n');
  return 0;
}
