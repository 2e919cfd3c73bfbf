import { UserError, UserErrors, type SourceRange } from '../common/index.js';
import { DirectiveScanner, detectSyntax } from './directives.js';
import { HeredocNameError, heredocsOnLine, type Heredoc } from './heredoc.js';
import { isCommentLine, joinContinuations, leadingSpace, type LogicalLine } from './line-joiner.js';
import { LineError, splitArgs, splitCommand } from './line-parsers.js';
import { hints, messages, type MessageCode } from './messages.js';
import { isLineTooLong, lineSpan, position, readSource, trimNewline, type PhysicalLine, type SourceText } from './source.js';
import type { RawDockerfile, RawInstruction } from './syntax.js';

/**
 * Text → BuildKit's raw node tree. Reads physical lines, directives at the top, continuation
 * lines and heredoc bodies, and splits each instruction's arguments as BuildKit does. Keeps
 * going after a problem and throws every problem found as one UserErrors.
 */
export function parseRaw(input: string | Uint8Array, file = 'Dockerfile'): RawDockerfile {
  return new RawReader(readSource(input, file)).read();
}

const HEREDOC_KEYWORDS = new Set(['run', 'copy', 'add']);

class RawReader {
  private readonly errors: UserError[] = [];
  private readonly instructions: RawInstruction[] = [];
  private readonly warnings: { line: number; message: string }[] = [];
  private readonly directives = new DirectiveScanner();
  private escape = '\\';
  private stopped = false;
  /** Comment lines since the last instruction (BuildKit's parser loop). */
  private comments: string[] = [];

  constructor(private readonly src: SourceText) {}

  read(): RawDockerfile {
    const { lines } = this.src;
    if (this.src.invalidUtf8) this.warnings.push({ line: 1, message: 'the Dockerfile is not valid UTF-8; invalid bytes were read as U+FFFD' });
    let i = 0;
    while (i < lines.length && !this.stopped) {
      const line = lines[i];
      if (this.checkTooLong(line)) break;
      const lead = leadingSpace(line.text);
      const trimmed = line.text.slice(lead);
      const isDirective = this.scanDirective(line, trimmed);
      if (isCommentLine(trimmed) && !isDirective) this.keepComment(trimmed);
      if (isCommentLine(trimmed) || trimmed.length === 0) {
        i++;
        continue;
      }
      const logical = joinContinuations(lines, i, trimmed, this.escape, (l) => this.checkTooLong(l));
      i = this.instruction(logical, lead);
    }
    if (this.instructions.length === 0 && this.errors.length === 0) {
      const last = lines.length ? lines[lines.length - 1] : undefined;
      this.fail('no-instructions', last ? lineSpan(this.src.file, last, 0, last.text.length) : this.fileStart(), [], 'a Dockerfile needs at least one instruction, e.g. FROM scratch');
    }
    if (this.errors.length) throw new UserErrors(this.errors);
    return { file: this.src.file, directives: this.directiveRecord(), instructions: this.instructions, warnings: this.warnings };
  }

  private fileStart(): SourceRange {
    const p = { line: 1, column: 1, offset: 0 };
    return { file: this.src.file, start: p, end: p };
  }

  private fail<C extends MessageCode>(code: C, where: SourceRange, args: Parameters<(typeof messages)[C]>, hint?: string): void {
    const message = (messages[code] as (...a: unknown[]) => string)(...args);
    this.errors.push(new UserError(code, message, { where, hint: hint ?? hints[code] }));
  }

  /** BuildKit's scanner stops at a line that does not fit its 64 KiB buffer. */
  private checkTooLong(line: PhysicalLine): boolean {
    if (!isLineTooLong(line)) return false;
    if (!this.stopped) this.fail('line-too-long', lineSpan(this.src.file, line, 0, 1), [], 'split the line with a continuation (\\ at its end)');
    this.stopped = true;
    return true;
  }

  /** True when the line was a directive (BuildKit leaves those out of the comments). */
  private scanDirective(line: PhysicalLine, trimmed: string): boolean {
    const r = this.directives.next(trimmed);
    const where = lineSpan(this.src.file, line, 0, line.text.length);
    if (r.kind === 'duplicate') this.fail('duplicate-directive', where, [r.name]);
    else if (r.kind === 'bad-escape') this.fail('invalid-escape', where, [r.value]);
    else if (r.kind === 'directive' && r.name === 'escape') this.escape = r.value;
    return r.kind !== 'none';
  }

  /** `# text` → "text" (Go's TrimSpace); an empty comment drops the ones before it. */
  private keepComment(trimmed: string): void {
    const text = trimmed.slice(1).trim();
    if (text === '') this.comments = [];
    else this.comments.push(text);
  }

  private directiveRecord(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.directives.found) out[k] = v;
    out.escape ??= '\\';
    if (out.syntax === undefined) {
      const syntax = detectSyntax(this.src.text);
      if (syntax !== undefined) out.syntax = syntax;
    }
    return out;
  }

  /** One instruction from its logical line; returns the index of the next unread line. */
  private instruction(logical: LogicalLine, lead: number): number {
    const { lines, file } = this.src;
    let next = logical.next;
    const first = logical.first;
    const lastJoined = lines[next - 1];
    const span = (last: PhysicalLine): SourceRange => ({
      file,
      start: position(first, lead),
      end: position(last, last.text.length),
    });
    if (logical.hasEmptyContinuation) {
      this.warnings.push({ line: lastJoined.number, message: `Empty continuation line found in: ${logical.text}` });
    }
    let node: RawInstruction;
    try {
      node = this.node(logical.text, first, lead, span(lastJoined));
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      this.lineError(e, span(lastJoined));
      return next;
    }
    const target = node.onbuild ?? node;
    if (HEREDOC_KEYWORDS.has(target.name.toLowerCase()) && !target.json && logical.text.includes('<<')) {
      let docs: Omit<Heredoc, 'content'>[];
      try {
        docs = heredocsOnLine(logical.text);
      } catch (e) {
        if (!(e instanceof HeredocNameError)) throw e;
        this.fail('bad-heredoc-name', span(lastJoined), [e.word, e.reason]);
        return next;
      }
      for (const doc of docs) {
        const body = this.readHeredoc(doc, next);
        if (!body) {
          this.fail('unterminated-heredoc', span(lines[lines.length - 1]), [doc.name], `end the heredoc with a line holding only ${doc.name}`);
          return lines.length;
        }
        node.heredocs.push({ ...doc, content: body.content });
        next = body.next;
      }
    }
    const last = lines[next - 1];
    node.endLine = last.number;
    node.range = span(last);
    node.comments = this.comments;
    this.comments = [];
    if (node.onbuild) {
      node.onbuild.endLine = last.number;
      node.onbuild.range = { ...node.onbuild.range, end: node.range.end };
    }
    this.instructions.push(node);
    return next;
  }

  private lineError(e: LineError, where: SourceRange): void {
    switch (e.code) {
      case 'env-needs-value':
        this.fail('env-needs-value', where, [e.keyword]);
        return;
      case 'missing-equals':
        this.fail('missing-equals', where, [e.keyword, e.message]);
        return;
      case 'json-not-strings':
        this.fail('json-not-strings', where, []);
        return;
    }
  }

  /** Splits one logical line into a node (recursing once for ONBUILD). */
  private node(text: string, first: PhysicalLine, lead: number, range: SourceRange): RawInstruction {
    const { keyword, flags, rest } = splitCommand(text);
    const split = splitArgs(keyword, rest, this.escape);
    const kwStart = position(first, lead);
    const kwEnd = position(first, Math.min(lead + Math.max(keyword.length, 1), Math.max(first.text.length, lead + 1)));
    const node: RawInstruction = {
      name: keyword,
      line: first.number,
      endLine: range.end.line,
      column: lead + 1,
      flags,
      args: split.args,
      json: split.isJson,
      heredocs: [],
      onbuild: null,
      range,
      keywordRange: { file: range.file, start: kwStart, end: kwEnd },
      original: text,
      comments: [],
    };
    if (split.sub !== undefined) {
      const subKeyword = splitCommand(split.sub).keyword;
      const at = first.text.indexOf(subKeyword, lead + keyword.length);
      const subLead = at >= 0 ? at : lead;
      node.onbuild = this.node(split.sub, first, subLead, { ...range, start: position(first, subLead) });
    }
    return node;
  }

  /** Reads a heredoc body from `lines[start]` on; undefined when no terminator line comes. */
  private readHeredoc(doc: Omit<Heredoc, 'content'>, start: number): { content: string; next: number } | undefined {
    const { lines } = this.src;
    let content = '';
    for (let i = start; i < lines.length; i++) {
      const line = lines[i];
      if (this.checkTooLong(line)) return { content, next: lines.length };
      let candidate = trimNewline(line.raw);
      if (doc.chomp) candidate = candidate.replace(/^\t+/, '');
      if (candidate === doc.name) return { content, next: i + 1 };
      content += line.raw;
    }
    return undefined;
  }
}
