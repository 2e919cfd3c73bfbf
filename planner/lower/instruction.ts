import { unreachable } from '../../common/index.js';
import type { Instruction, InstructionKind } from '../../parser/index.js';
import type { Step } from '../step.js';
import { lowerAdd } from './add.js';
import { lowerCmd } from './cmd.js';
import { lowerCopy } from './copy.js';
import { lowerEntrypoint } from './entrypoint.js';
import { lowerEnv } from './env.js';
import { lowerExpose } from './expose.js';
import { lowerHealthcheck } from './healthcheck.js';
import { lowerLabel } from './label.js';
import type { LowerArgs } from './lowering.js';
import { lowerMaintainer } from './maintainer.js';
import { lowerOnbuild } from './onbuild.js';
import { lowerRun } from './run.js';
import { lowerShell } from './shell.js';
import { lowerStopsignal } from './stopsignal.js';
import { lowerUser } from './user.js';
import { lowerVolume } from './volume.js';
import { lowerWorkdir } from './workdir.js';

/**
 * One instruction (variables already expanded) → its step, by kind: one module per
 * instruction, as kaniko's pkg/commands. FROM and ARG make no step: the stage split and the
 * stage's scope handle them.
 */
export async function lowerInstruction(ins: Instruction, a: LowerArgs): Promise<Step | undefined> {
  switch (ins.kind) {
    case 'from':
    case 'arg':
      return undefined;
    case 'run':
      return lowerRun(ins, a);
    case 'copy':
      return lowerCopy(ins, a);
    case 'add':
      return lowerAdd(ins, a);
    case 'workdir':
      return lowerWorkdir(ins, a);
    case 'env':
      return lowerEnv(ins, a);
    case 'label':
      return lowerLabel(ins, a);
    case 'cmd':
      return lowerCmd(ins, a);
    case 'entrypoint':
      return lowerEntrypoint(ins, a);
    case 'shell':
      return lowerShell(ins, a);
    case 'user':
      return lowerUser(ins, a);
    case 'expose':
      return lowerExpose(ins, a);
    case 'volume':
      return lowerVolume(ins, a);
    case 'stopsignal':
      return lowerStopsignal(ins, a);
    case 'healthcheck':
      return lowerHealthcheck(ins, a);
    case 'onbuild':
      return lowerOnbuild(ins, a);
    case 'maintainer':
      return lowerMaintainer(ins, a);
    default:
      return unreachable(ins);
  }
}

/** Does the instruction make a numbered vertex (`[2/5]`) in the progress display, as a layer step does? */
export function isNumberedVertex(kind: InstructionKind): boolean {
  switch (kind) {
    case 'run':
    case 'copy':
    case 'add':
    case 'workdir':
      return true;
    case 'from':
    case 'arg':
    case 'env':
    case 'label':
    case 'cmd':
    case 'entrypoint':
    case 'shell':
    case 'user':
    case 'expose':
    case 'volume':
    case 'stopsignal':
    case 'healthcheck':
    case 'onbuild':
    case 'maintainer':
      return false;
    default:
      return unreachable(kind);
  }
}
