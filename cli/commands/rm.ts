import { UserError, throwCollected } from '../../common/index.js';
import type { CliContext, Command } from '../command.js';
import { boolOpt, parseArgs, usageError, type OptionSpec } from '../args.js';

const options: OptionSpec[] = [{ name: 'force', short: 'f', type: 'boolean' }];

export const command: Command = {
  name: 'rm',
  usage: 'tsbuild rm [-f] CONTAINER...',
  summary: 'Remove containers (-f: kill running ones first).',
  run: rm,
};

export const rmMessages = {
  'no-such-container': (ref: string) => `No such container: ${ref}`,
  'container-running': (id: string) =>
    // Docker says "stop the container": tsbuild has no `stop` yet, so the way out is waiting or -f.
    `cannot remove container "${id}": container is running: wait for it to exit, or remove it by force with rm -f`,
  'ambiguous-container': (ref: string) => `multiple containers found with provided prefix: ${ref}`,
} satisfies Record<string, (...args: never[]) => string>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rm(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, options);
  if (args.positionals.length === 0) throw usageError('"rm" requires at least 1 argument');
  const store = await import('../../store/containers.js');
  const errors: UserError[] = [];
  for (const ref of args.positionals) {
    try {
      const c = await store.findContainer(ctx.root, ref).catch((e: unknown) => {
        if (e instanceof store.AmbiguousContainerError) throw new UserError('ambiguous-container', rmMessages['ambiguous-container'](ref), { where: ref });
        throw e;
      });
      if (!c) throw new UserError('no-such-container', rmMessages['no-such-container'](ref), { where: ref });
      if (c.status.state === 'running') {
        if (!boolOpt(args, 'force')) throw new UserError('container-running', rmMessages['container-running'](c.id.slice(0, 12)), { where: ref });
        // The helper's death takes the container with it (its pid 1 has PDEATHSIG=SIGKILL).
        try {
          process.kill(c.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
        for (let i = 0; i < 100 && store.isHelperAlive(c); i++) await sleep(20);
      }
      await store.removeContainer(ctx.root, c);
      ctx.stdout.write(ref + '\n');
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      errors.push(e);
    }
  }
  throwCollected(errors);
  return 0;
}
