import type { CheckWarning } from '../engine/index.js';
import { displayPath, snippet } from './render-error.js';

function located(w: CheckWarning, sources: ReadonlyMap<string, string>): string[] {
  if (!w.where) return [];
  const text = sources.get(w.where.file);
  return [`${displayPath(w.where.file)}:${w.where.start.line}`, ...(text !== undefined ? snippet(text, w.where) : [])];
}

/**
 * A build check's warning at the end of a build, BuildKit's short form first
 * (`WARN: JSONArgsRecommended: … (line 7)`), then where, with a caret as our errors have, and
 * the rule's page.
 */
export function renderBuildWarning(w: CheckWarning, sources: ReadonlyMap<string, string>): string {
  const line = w.where ? ` (line ${w.where.start.line})` : '';
  return [`WARN: ${w.rule}: ${w.detail}${line}`, ...located(w, sources), ...(w.url ? [`  ${w.url}`] : [])].join('\n');
}

/** `--call check` as buildx prints it (lint.Warning.PrintTo), our caret for BuildKit's `>>>`. */
export function renderCheckReport(warnings: readonly CheckWarning[], sources: ReadonlyMap<string, string>): string {
  if (warnings.length === 0) return 'Check complete, no warnings found.\n';
  let out = `Check complete, ${warnings.length === 1 ? '1 warning has been found!' : `${warnings.length} warnings have been found!`}\n`;
  for (const w of warnings) {
    out += `\nWARNING: ${w.rule}${w.url ? ` - ${w.url}` : ''}\n${w.detail}\n`;
    const where = located(w, sources);
    if (where.length) out += where.join('\n') + '\n';
  }
  return out;
}
