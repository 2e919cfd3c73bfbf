/** How the CLI prints tables, sizes and ages, as Docker's CLI does (go-units, tabwriter). */

/** go-units HumanSizeWithPrecision(size, 3): decimal units, 3 significant digits ("20.5kB"). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return `${parseFloat(size.toPrecision(3))}${units[i]}`;
}

/** go-units HumanDuration, as Docker prints CREATED ("2 minutes ago" without the "ago"). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** "2 minutes ago", or "N/A" for an image without a creation time (as Docker). */
export function createdSince(created: string | undefined, now = Date.now()): string {
  const t = created ? Date.parse(created) : NaN;
  if (Number.isNaN(t) || t <= 0 && created?.startsWith('0001')) return 'N/A';
  return `${humanDuration(Math.max(0, now - t))} ago`;
}

/**
 * Docker's table: Go tabwriter(minwidth 10, padding 3); every column but the last is
 * padded to its widest cell + 3 (at least 10).
 */
export function renderTable(rows: string[][]): string {
  const cols = Math.max(...rows.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < cols - 1; c++) widths[c] = Math.max(10, ...rows.map((r) => [...(r[c] ?? '')].length + 3));
  return rows
    .map((r) => r.map((cell, c) => (c < cols - 1 ? cell + ' '.repeat(widths[c] - [...cell].length) : cell)).join('').trimEnd() + '\n')
    .join('');
}
