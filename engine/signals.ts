/** Signal names as Docker's signal.ParseSignal takes them (kill -s, stop -s, --stop-signal, StopSignal). */
import { constants } from 'node:os';
import { UserError } from '../common/index.js';

export const signalMessages = {
  'bad-signal': (sig: string) => `Invalid signal: ${sig}`,
} satisfies Record<string, (...args: never[]) => string>;

/** `KILL`, `SIGKILL`, `9` → 9. */
export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= 64) return n;
  } else {
    const name = text.toUpperCase().replace(/^SIG/, '');
    const n = (constants.signals as Record<string, number>)[`SIG${name}`];
    if (n !== undefined) return n;
  }
  throw new UserError('bad-signal', signalMessages['bad-signal'](text), { where: text });
}
