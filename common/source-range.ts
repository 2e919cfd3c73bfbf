/** A point in a source file: 1-based line and column as messages show them, plus the offset. */
export interface Position {
  line: number;
  column: number;
  offset: number;
}

/** Where something came from in a Dockerfile (or another text the user wrote). */
export interface SourceRange {
  file: string;
  start: Position;
  end: Position;
}

/** A range covering whole lines `startLine..endLine` (1-based) when columns are unknown. */
export function lineRange(file: string, startLine: number, endLine = startLine): SourceRange {
  return {
    file,
    start: { line: startLine, column: 1, offset: -1 },
    end: { line: endLine, column: 1, offset: -1 },
  };
}
