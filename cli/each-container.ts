import { UserError, throwCollected } from '../common/index.js';
import type { CliContext } from './command.js';

/**
 * Docker's multi-container verbs (stop, kill, start, restart, wait): each ref in turn, its
 * line printed as it succeeds, every failure collected and shown at the end (exit 1).
 */
export async function eachContainer(refs: string[], ctx: CliContext, fn: (ref: string) => Promise<string>): Promise<number> {
  const errors: UserError[] = [];
  for (const ref of refs) {
    try {
      ctx.stdout.write((await fn(ref)) + '\n');
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      errors.push(e);
    }
  }
  throwCollected(errors);
  return 0;
}
