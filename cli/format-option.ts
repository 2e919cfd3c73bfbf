import { UserError, compareCodeUnits } from '../common/index.js';
import { TemplateError, compileTemplate, type Template } from './template.js';

/**
 * `--format` as Docker's CLI formatter applies it (docker/cli cli/command/formatter): `\t`
 * and `\n` typed literally become tab and newline; `table TEMPLATE` prints a header row
 * (each field's title) and aligns cells through a tabwriter (minwidth 10, padding 3);
 * `json` is `{{json .}}`; anything else is one template run per row, each followed by a
 * newline.
 */
export interface RowFormat {
  /** The command's own table, for `--format table` and no --format. */
  defaultTable: string;
  /** Field → column title (FullHeader in Docker's contexts). */
  headers: Record<string, string>;
}

function templateError(e: unknown): never {
  if (e instanceof TemplateError) throw new UserError('bad-template', e.message, { exitCode: 2 });
  throw e;
}

export function compile(text: string, missingKey: 'error' | 'zero' = 'error', funcs?: Record<string, (...a: unknown[]) => unknown>): Template {
  try {
    const t = compileTemplate(text, { missingKey, funcs });
    return { execute: (data) => {
      try {
        return t.execute(data);
      } catch (e) {
        return templateError(e);
      }
    } };
  } catch (e) {
    return templateError(e);
  }
}

/** Go's text/tabwriter as Docker configures it: a cell is text ended by a tab. */
export function tabwrite(text: string): string {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const cells = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const row of cells)
    for (let c = 0; c < row.length - 1; c++) widths[c] = Math.max(widths[c] ?? 10, [...row[c]].length + 3);
  return cells.map((row) => row.map((cell, c) => (c < row.length - 1 ? cell + ' '.repeat(widths[c] - [...cell].length) : cell)).join('') + '\n').join('');
}

// Docker's HeaderFunctions: in the header row every function gives back its text.
const HEADER_FUNCS: Record<string, (...a: unknown[]) => unknown> = {
  json: () => '',
  join: (v) => v,
  split: (v) => v,
  lower: (v) => v,
  upper: (v) => v,
  title: (v) => v,
  pad: (v) => v,
  truncate: (v) => v,
};

/** The rows printed by `format` (undefined: the command's table). */
export function renderRows(format: string | undefined, given: object[], spec: RowFormat): string {
  // Docker marshals a row as a map: {{json .}} has its keys sorted.
  const rows = given.map((r) => Object.fromEntries(Object.entries(r).sort(([a], [b]) => compareCodeUnits(a, b))));
  let text = (format ?? 'table').trim();
  if (text === 'json') text = '{{json .}}';
  else if (text === 'table') text = `table ${spec.defaultTable}`;
  text = text.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const table = text.startsWith('table');
  if (!table) {
    const t = compile(text);
    return rows.map((r) => t.execute(r) + '\n').join('');
  }
  const body = text.slice('table'.length).trim();
  const t = compile(body);
  const header = compile(body, 'error', HEADER_FUNCS).execute(spec.headers);
  return tabwrite([header, ...rows.map((r) => t.execute(r))].join('\n') + '\n');
}

/** `--filter KEY=VALUE` flags grouped by key (the same key twice: either may match, as in Docker). */
export function parseFilters(flags: string[], allowed: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of flags) {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    if (eq < 0) throw new UserError('bad-filter', `bad format of filter (expected name=value): ${f}`, { exitCode: 2 });
    if (!allowed.includes(key)) throw new UserError('bad-filter', `invalid filter '${key}'`, { exitCode: 2, hint: `filters: ${allowed.join(', ')}` });
    out.set(key, [...(out.get(key) ?? []), f.slice(eq + 1)]);
  }
  return out;
}

/** Go's time.Time String() in UTC, as Docker's CreatedAt fields print. */
export function goTime(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC').replace(/Z$/, ' +0000 UTC');
}
