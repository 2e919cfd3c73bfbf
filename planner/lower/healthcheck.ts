import type { Healthcheck } from '../../parser/index.js';
import { goQuotedList } from '../history-text.js';
import type { ConfigStep } from '../step.js';
import { configStep } from './config-step.js';
import type { LowerArgs } from './lowering.js';

/** `HEALTHCHECK NONE | [options] CMD …`: the config's Healthcheck, durations in nanoseconds. */
export function lowerHealthcheck(ins: Healthcheck, a: LowerArgs): ConfigStep {
  if (ins.check.kind === 'none') {
    return configStep(a, ins, 'HEALTHCHECK NONE', [{ field: 'Healthcheck', value: { Test: ['NONE'] } }]);
  }
  const c = ins.check;
  const test = c.test.form === 'exec' ? ['CMD', ...c.test.argv] : ['CMD-SHELL', c.test.script];
  const value = {
    Test: test,
    ...(c.intervalNs !== undefined ? { Interval: c.intervalNs } : {}),
    ...(c.timeoutNs !== undefined ? { Timeout: c.timeoutNs } : {}),
    ...(c.startPeriodNs !== undefined ? { StartPeriod: c.startPeriodNs } : {}),
    ...(c.startIntervalNs !== undefined ? { StartInterval: c.startIntervalNs } : {}),
    ...(c.retries !== undefined ? { Retries: c.retries } : {}),
  };
  return configStep(a, ins, `HEALTHCHECK ${goQuotedList(test)}`, [{ field: 'Healthcheck', value }]);
}
