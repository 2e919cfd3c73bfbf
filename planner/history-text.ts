/**
 * Docker's `created_by` texts, as BuildKit writes them into image history
 * (dockerfile2llb commitToHistory): Go's %q / %v renderings of the parsed values.
 */

/** Go's `%q` of a []string: `["/bin/sh" "-c" "echo hi"]`. */
export function goQuotedList(list: readonly string[]): string {
  return '[' + list.map((s) => JSON.stringify(s)).join(' ') + ']';
}

/** Go's `%v` of a []string: `[/bin/sh -c]`. */
export function goList(list: readonly string[]): string {
  return '[' + list.join(' ') + ']';
}

/** Go's `%v` of a map[string]struct{}: `map[443/tcp:{} 80/tcp:{}]` (keys sorted). */
export function goSetMap(keys: readonly string[]): string {
  return 'map[' + [...keys].sort().map((k) => `${k}:{}`).join(' ') + ']';
}

/** `RUN |2 A=1 B=2 /bin/sh -c make # buildkit` (the arg prefix only when args are in effect). */
export function runCreatedBy(args: [string, string][], commandText: string): string {
  const prefix = args.length ? `|${args.length} ${args.map(([k, v]) => `${k}=${v}`).join(' ')} ` : '';
  return `RUN ${prefix}${commandText} # buildkit`;
}
