import { UserError } from './errors.js';
import type { SourceRange } from './source-range.js';

/**
 * Give a UserError that names no source location the range of the instruction that caused
 * it (the boundary that knows the location attaches it, STYLE.md §4). An object name it
 * carried stays in the message.
 */
export function atRange(err: unknown, range: SourceRange): unknown {
  if (!(err instanceof UserError) || typeof err.where === 'object') return err;
  const named = err.where !== undefined && !err.message.includes(err.where) ? ` (${err.where})` : '';
  return new UserError(err.code, err.message + named, {
    where: range,
    hint: err.hint,
    detail: err.detail,
    exitCode: err.exitCode,
  });
}
