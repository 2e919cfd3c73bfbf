import { UserError, suggest, type SourceRange } from '../common/index.js';
import type { Instruction, From } from '../parser/index.js';
import { messages } from './messages.js';

/** One `FROM` and the instructions up to the next one, before any expansion. */
export interface RawStage {
  index: number;
  /** Lower-cased `AS name`, if any. */
  name?: string;
  from: From;
  instructions: Instruction[];
}

export interface SplitDockerfile {
  /** ARGs before the first FROM (the global scope). */
  globalArgs: Extract<Instruction, { kind: 'arg' }>[];
  stages: RawStage[];
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** Split the instruction list at each FROM; only ARG may come before the first one. */
export function splitStages(instructions: Instruction[], file: string): SplitDockerfile {
  const globalArgs: SplitDockerfile['globalArgs'] = [];
  const stages: RawStage[] = [];
  for (const ins of instructions) {
    if (ins.kind === 'from') {
      const name = ins.stageName?.toLowerCase();
      if (name !== undefined) {
        if (!STAGE_NAME.test(name)) throw new UserError('invalid-stage-name', messages['invalid-stage-name'](name), { where: ins.range });
        if (stages.some((s) => s.name === name)) throw new UserError('duplicate-stage', messages['duplicate-stage'](name), { where: ins.range });
      }
      stages.push({ index: stages.length, name, from: ins, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.kind !== 'arg') throw new UserError('no-from', messages['no-from'](), { where: ins.range });
      globalArgs.push(ins);
    } else {
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  if (stages.length === 0) {
    throw new UserError('no-from', messages['no-from'](), { where: file });
  }
  return { globalArgs, stages };
}

/** The stage a `--target` names (case-insensitive), or the last stage. */
export function targetStage(split: SplitDockerfile, target: string | undefined): number {
  if (target === undefined || target === '') return split.stages.length - 1;
  const i = split.stages.findIndex((s) => s.name === target.toLowerCase());
  if (i < 0) {
    const known = split.stages.flatMap((s) => (s.name ? [s.name] : []));
    throw new UserError('unknown-target', messages['unknown-target'](target, known), { exitCode: 1 });
  }
  return i;
}

/**
 * What a `FROM x` or `--from=x` names, seen from stage `before`: an earlier stage by name or
 * index (BuildKit allows only earlier ones), else an image reference.
 */
export function stageReference(
  split: SplitDockerfile,
  name: string,
  before: number,
  opts: { allowIndex: boolean; where: SourceRange },
): number | undefined {
  const lower = name.toLowerCase();
  const byName = split.stages.findIndex((s) => s.name === lower);
  if (byName >= 0) {
    if (byName === before) throw new UserError('stage-self', messages['stage-self'](name), { where: opts.where });
    if (byName < before) return byName;
    throw new UserError('unknown-stage', messages['unknown-stage'](name), { where: opts.where });
  }
  if (opts.allowIndex && /^[0-9]+$/.test(name)) {
    const i = Number(name);
    if (i < before) return i;
    throw new UserError('unknown-stage', messages['unknown-stage'](name), { where: opts.where });
  }
  return undefined;
}

/**
 * Before `name` is taken for an image (and maybe pulled): a bare name one or two edits from a
 * stage's (`--from=buidler` with a stage `builder`) is a typo, refused without the network.
 */
export function checkNearStage(split: SplitDockerfile, name: string, where: SourceRange): void {
  if (/[/:@.]/.test(name) || name.toLowerCase() === 'scratch') return;
  const names = split.stages.flatMap((s) => (s.name ? [s.name] : []));
  const near = suggest(name, names);
  if (near === undefined) return;
  throw new UserError('stage-near-miss', messages['stage-near-miss'](name), {
    where,
    hint: `did you mean the stage ${near}? (an image named "${name}" would be pulled from a registry; name it with a tag, e.g. ${name}:latest, to use one)`,
  });
}
