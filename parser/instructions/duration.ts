/**
 * Go's `time.ParseDuration`: `[-+]` then one or more `<number><unit>` (`ns us µs μs ms s m h`),
 * or a bare `0`. Returns nanoseconds, or undefined when the text is not a duration.
 */
const UNITS: Record<string, number> = {
  ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9,
};
const MAX_NS = 2 ** 63 - 1;

export function parseGoDuration(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  const re = /^([0-9]*(?:\.[0-9]*)?)([a-z\u00b5\u03bc]+)/u; // µ (micro sign) and μ (Greek mu), as Go accepts
  while (s !== '') {
    const m = re.exec(s);
    if (!m || m[1] === '' || m[1] === '.') return undefined;
    const unit = UNITS[m[2]];
    if (unit === undefined) return undefined;
    total += Number(m[1]) * unit;
    s = s.slice(m[0].length);
  }
  if (total > MAX_NS) return undefined;
  return sign * Math.round(total);
}
