import type { SourceRange } from '../../common/index.js';
import type { RawInstruction } from '../syntax.js';

/** The two ranges every typed instruction carries, copied from its raw node. */
export function located(raw: RawInstruction): { range: SourceRange; keywordRange: SourceRange } {
  return { range: raw.range, keywordRange: raw.keywordRange };
}
