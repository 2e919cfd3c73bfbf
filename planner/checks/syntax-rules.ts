import type { Instruction, RawDockerfile, RawInstruction } from '../../parser/index.js';
import type { Linter } from './linter.js';

/**
 * The checks BuildKit runs while typing instructions and splitting stages (instructions/parse.go,
 * dockerfile2llb/validations.go): keyword and stage-name casing, MAINTAINER, empty
 * continuation lines, description comments, reserved and duplicate stage names. They read
 * the keywords as written, so they work on the raw tree.
 */
export function syntaxChecks(raw: RawDockerfile, typed: readonly Instruction[], lint: (i: number) => Linter): void {
  raw.instructions.forEach((node, i) => {
    const ins = typed[i];
    const l = lint(i);
    if (ins.kind === 'maintainer') l.run('MaintainerDeprecated', node.range);
    if (ins.kind === 'from') fromCasing(node, l);
    if (ins.kind === 'from' && ins.stageName) definitionComment('FROM', [ins.stageName], node, l);
    if (ins.kind === 'arg') definitionComment('ARG', ins.args.map((a) => a.name), node, l);
  });
  emptyContinuations(raw, lint);
  instructionCasing(raw, typed, lint);
  stageNames(raw, typed, lint);
}

/** StageNameCasing and FromAsCasing (isLowerCaseStageName, doesFromCaseMatchAsCase). */
function fromCasing(node: RawInstruction, l: Linter): void {
  if (node.args.length !== 3) return;
  const [, as, name] = node.args;
  if (name !== name.toLowerCase()) l.run('StageNameCasing', node.range, name);
  const upper = node.name === node.name.toUpperCase();
  if (as !== (upper ? as.toUpperCase() : as.toLowerCase())) l.run('FromAsCasing', node.range, node.name, as);
}

/** validateDefinitionDescription: the last comment above should start with the name it describes. */
function definitionComment(instruction: 'FROM' | 'ARG', names: string[], node: RawInstruction, l: Linter): void {
  if (node.comments.length === 0 || names.length === 0) return;
  const first = node.comments[node.comments.length - 1].split(' ')[0];
  if (names.includes(first)) return;
  l.run('InvalidDefinitionDescription', node.range, instruction, names.length > 1 ? '<arg_key>' : names[0]);
}

/**
 * The parser's empty-continuation warnings, at the line that ends the joined instruction
 * (BuildKit's parser puts them at its currentLine then).
 */
function emptyContinuations(raw: RawDockerfile, lint: (i: number) => Linter): void {
  for (const w of raw.warnings) {
    if (!w.message.startsWith('Empty continuation line')) continue;
    const i = raw.instructions.findIndex((n) => n.line <= w.line && w.line <= n.endLine);
    const r = raw.instructions[i]?.range;
    const start = { line: w.line, column: 1, offset: -1 };
    const end = r && r.end.line === w.line ? r.end : { ...start, column: 2 };
    lint(Math.max(i, 0)).run('NoEmptyContinuation', r ? { file: r.file, start, end } : undefined);
  }
}

const isConsistent = (s: string) => s === s.toLowerCase() || s === s.toUpperCase();

/**
 * ConsistentInstructionCasing (validateCommandCasing): the stages' keywords (not the global
 * ARGs) vote lower or upper; a tie counts as upper; a mixed-case keyword always warns.
 */
function instructionCasing(raw: RawDockerfile, typed: readonly Instruction[], lint: (i: number) => Linter): void {
  const first = typed.findIndex((t) => t.kind === 'from');
  if (first < 0) return;
  const nodes = raw.instructions.slice(first);
  let lower = 0;
  let upper = 0;
  for (const n of nodes) {
    if (!isConsistent(n.name)) continue;
    if (n.name === n.name.toLowerCase()) lower++;
    else upper++;
  }
  const majorityLower = lower > upper;
  nodes.forEach((n, k) => {
    const casing = majorityLower && n.name !== n.name.toLowerCase() ? 'lowercase' : !majorityLower && n.name !== n.name.toUpperCase() ? 'uppercase' : '';
    if (casing) lint(first + k).run('ConsistentInstructionCasing', n.range, n.name, casing);
  });
}

const RESERVED_STAGE_NAMES = new Set(['context', 'scratch']);

/** ReservedStageName and DuplicateStageName (validateStageNames), on the lower-cased names. */
function stageNames(raw: RawDockerfile, typed: readonly Instruction[], lint: (i: number) => Linter): void {
  const seen = new Set<string>();
  typed.forEach((t, i) => {
    if (t.kind !== 'from' || !t.stageName) return;
    const name = t.stageName.toLowerCase();
    if (RESERVED_STAGE_NAMES.has(name)) lint(i).run('ReservedStageName', raw.instructions[i].range, name);
    if (seen.has(name)) lint(i).run('DuplicateStageName', raw.instructions[i].range, name);
    seen.add(name);
  });
}
