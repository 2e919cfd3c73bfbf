import { goQuote, goQuoteList } from './go-text.js';
import type { RawDockerfile, RawInstruction } from './syntax.js';

/**
 * The two printed forms of the raw tree: BuildKit's `Node.Dump()` (what `tsbuild parse`
 * prints and the conformance `result` files hold) and the `parse --json` object.
 */
function dumpNode(ins: RawInstruction): string {
  let s = '(' + ins.name.toLowerCase();
  if (ins.flags.length > 0) s += ' ' + goQuoteList(ins.flags);
  if (ins.onbuild) s += ' ' + dumpNode(ins.onbuild);
  for (const a of ins.args) s += ' ' + goQuote(a);
  return s + ')';
}

/** BuildKit's dump: one `(keyword ["flags"] "args"…)` line per instruction, with a final newline. */
export function dumpBuildkit(raw: RawDockerfile): string {
  return raw.instructions.map((i) => dumpNode(i) + '\n').join('');
}

function instructionJson(ins: RawInstruction): object {
  return {
    name: ins.name,
    line: ins.line,
    endLine: ins.endLine,
    column: ins.column,
    flags: ins.flags,
    args: ins.args,
    json: ins.json,
    heredocs: ins.heredocs.map((h) => ({ name: h.name, content: h.content, expand: h.expand, chomp: h.chomp, fd: h.fd })),
    onbuild: ins.onbuild ? instructionJson(ins.onbuild) : null,
  };
}

/** The `tsbuild parse --json` object: directives, instructions, warnings (DESIGN.md "parse --json"). */
export function rawToJson(raw: RawDockerfile): object {
  return {
    directives: raw.directives,
    instructions: raw.instructions.map(instructionJson),
    warnings: raw.warnings,
  };
}
