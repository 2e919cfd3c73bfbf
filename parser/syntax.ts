import type { SourceRange } from '../common/index.js';
import type { Heredoc } from './heredoc.js';

/** Raw tree = BuildKit's node tree, the `tsbuild parse --json` contract (+ column, + ranges for internal use). */
export interface RawInstruction {
  /** The keyword as written. */
  name: string;
  line: number;
  /** Last physical line, continuation lines and heredoc bodies included. */
  endLine: number;
  column: number;
  /** Leading `--` words after quote removal. */
  flags: string[];
  /** BuildKit's argument nodes, unexpanded and quote-preserving (see the conformance README). */
  args: string[];
  /** Exec (JSON array) form. */
  json: boolean;
  heredocs: Heredoc[];
  /** ONBUILD's nested instruction. */
  onbuild: RawInstruction | null;
  range: SourceRange;
  keywordRange: SourceRange;
  /** The logical line (continuations joined), as BuildKit's `Node.Original`. */
  original: string;
  /**
   * BuildKit's `Node.PrevComment`: the comment lines since the previous instruction, `#` and
   * blanks trimmed, directives left out; an empty `#` line clears them. Descriptions for
   * `--call outline|targets` and per-instruction `# check=` settings come from here.
   */
  comments: string[];
}

export interface RawDockerfile {
  file: string;
  /** Lower-case keys; `escape` is always present. */
  directives: Record<string, string>;
  instructions: RawInstruction[];
  warnings: { line: number; message: string }[];
}

export type { Heredoc };
