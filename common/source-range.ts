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

