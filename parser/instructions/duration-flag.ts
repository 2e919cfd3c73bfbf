import { parseGoDuration } from './duration.js';
import { problem } from './problem.js';

/** A HEALTHCHECK duration flag: empty or absent is "not set"; 0 stays 0; else at least 1ms. */
export function parseDurationFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ns = parseGoDuration(value);
  if (ns === undefined) throw problem('bad-duration', flag, value).atFlag(flag);
  if (ns !== 0 && ns < 1e6) throw problem('duration-too-short', flag).atFlag(flag);
  return ns;
}
