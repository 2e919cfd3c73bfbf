import type { Outline, TargetList } from '../engine/index.js';
import { tabulate } from './tabwriter.js';

/** BuildKit's outline.PrintOutline: the target, then a table each of build args, secrets and ssh. */
export function outlineText(o: Outline): string {
  let out = '';
  if (o.name || o.description) {
    const rows = [['TARGET:', o.name || '(default)']];
    if (o.description) rows.push(['DESCRIPTION:', o.description]);
    out += tabulate(rows, 1) + '\n';
  }
  if (o.args?.length) out += tabulate([['BUILD ARG', 'VALUE', 'DESCRIPTION'], ...o.args.map((a) => [a.name, a.value ?? '', a.description ?? ''])], 3) + '\n';
  if (o.secrets?.length) out += tabulate([['SECRET', 'REQUIRED'], ...o.secrets.map((s) => [s.name, s.required ? 'true' : ''])], 3) + '\n';
  if (o.ssh?.length) out += tabulate([['SSH', 'REQUIRED'], ...o.ssh.map((s) => [s.name, s.required ? 'true' : ''])], 3) + '\n';
  return out;
}

/** BuildKit's targets.PrintTargets: one line per stage, the default one marked. */
export function targetsText(l: TargetList): string {
  const rows = l.targets.map((t) => {
    const name = !t.name && t.default ? '(default)' : t.default ? `${t.name} (default)` : (t.name ?? '');
    return [name, t.description ?? ''];
  });
  return tabulate([['TARGET', 'DESCRIPTION'], ...rows], 1);
}
