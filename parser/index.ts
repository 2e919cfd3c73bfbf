/**
 * parser/: the Dockerfile parser: text → BuildKit's raw node tree (directives, continuation lines,
 * comments, heredocs, exec vs shell form) → one typed instruction per line, each with its
 * source range; plus word expansion (`$VAR`, `${VAR:-x}` …) as a separate, pure module, and
 * the rules for which instructions expand which fields.
 * It must never read files, look at images or containers, or touch the process environment:
 * text comes in, data and UserErrors come out.
 */
export { parseRaw } from './raw.js';
export { dumpBuildkit, rawToJson } from './dump.js';
export type { RawDockerfile, RawInstruction, Heredoc } from './syntax.js';
export { typeInstructions } from './instructions/index.js';
export { FLAG_TABLE, type FlagKeyword, type FlagType } from './instructions/flag-table.js';
export type * from './instructions/types.js';
export { expandWord, expandWords, expandHeredocBody, type WordEnv, type ExpandOptions } from './words.js';
export { expandInstruction } from './expand.js';
export { messages } from './messages.js';
