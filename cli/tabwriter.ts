/**
 * Go's text/tabwriter as buildx's printers use it (minwidth 0, tabwidth 0, pad with spaces,
 * no flags): a cell ended by a tab is padded to its column's widest cell plus `padding`;
 * the text after a line's last tab is not a cell and is written as is.
 */
export function tabulate(lines: string[][], padding: number): string {
  const widths: number[] = [];
  for (const cells of lines) cells.slice(0, -1).forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return lines.map((cells) => cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i] + padding) : c)).join('') + '\n').join('');
}
