import type { RawInstruction } from '../syntax.js';
import { commandLine } from './command.js';
import { parseDurationFlag } from './duration-flag.js';
import { parseFlags } from './flags.js';
import { located } from './located.js';
import { problem } from './problem.js';
import type { Healthcheck, HealthcheckSpec } from './types.js';

/** `HEALTHCHECK NONE` or `HEALTHCHECK [--interval --timeout --start-period --start-interval --retries] CMD …`. */
export function parseHealthcheck(raw: RawInstruction): Healthcheck {
  if (raw.args.length === 0) throw problem('needs-arguments', 'HEALTHCHECK');
  const typ = raw.args[0].toUpperCase();
  const rest = raw.args.slice(1);
  if (typ === 'NONE') {
    if (rest.length !== 0) throw problem('healthcheck-none-args');
    return { kind: 'healthcheck', check: { kind: 'none' }, ...located(raw) };
  }
  const flags = parseFlags('HEALTHCHECK', raw.flags);
  if (typ !== 'CMD') throw problem('healthcheck-type', raw.args[0]);
  if (rest.length === 0) throw problem('healthcheck-missing-cmd');
  const test = commandLine({ ...raw, args: rest });
  const check: Extract<HealthcheckSpec, { kind: 'cmd' }> = { kind: 'cmd', test };
  const durations = [
    ['interval', 'intervalNs'], ['timeout', 'timeoutNs'], ['start-period', 'startPeriodNs'], ['start-interval', 'startIntervalNs'],
  ] as const;
  for (const [flag, field] of durations) {
    const ns = parseDurationFlag(flag, flags.strings.get(flag));
    // 0 means "use the default", as an absent flag does; Docker then leaves the field out.
    if (ns !== undefined && ns !== 0) check[field] = ns;
  }
  const retries = flags.strings.get('retries');
  if (retries !== undefined && retries !== '') {
    if (!/^[+-]?[0-9]+$/.test(retries) || Math.abs(Number(retries)) > 2 ** 31 - 1) throw problem('bad-retries', retries).atFlag('retries');
    if (Number(retries) < 0) throw problem('negative-retries', retries).atFlag('retries');
    check.retries = Number(retries);
  }
  return { kind: 'healthcheck', check, ...located(raw) };
}
