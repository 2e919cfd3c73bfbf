/**
 * The JSON shapes of BuildKit's frontend subrequests (frontend/subrequests/{outline,targets,
 * lint}), field for field, so `--call … --format json` reads as buildx prints it.
 * Lines are 1-based; `character` is left out, as BuildKit's instruction locations carry none.
 */
export interface PbRange {
  start: { line: number };
  end: { line: number };
}
export interface PbLocation {
  sourceIndex?: number;
  ranges: PbRange[];
}

export interface OutlineArg {
  name: string;
  description?: string;
  value?: string;
  location?: PbLocation;
}
export interface OutlineSecret {
  name: string;
  required?: boolean;
  location?: PbLocation;
}
export interface Outline {
  name?: string;
  description?: string;
  args?: OutlineArg[];
  secrets?: OutlineSecret[];
  ssh?: OutlineSecret[];
  /** The Dockerfile's bytes, base64 (Go's []byte in JSON). */
  sources?: string[];
}

export interface Target {
  name?: string;
  default?: boolean;
  description?: string;
  base?: string;
  platform?: string;
  location?: PbLocation;
}
export interface TargetList {
  targets: Target[];
  sources: string[];
}

export interface LintWarning {
  ruleName: string;
  description?: string;
  url?: string;
  detail?: string;
  location?: PbLocation;
}
export interface LintResults {
  warnings: LintWarning[];
  sources: { filename: string; language: string; data: string }[];
}

export function locationOf(r: { start: { line: number }; end: { line: number } }): PbLocation {
  return { ranges: [{ start: { line: r.start.line }, end: { line: r.end.line } }] };
}
