import { unreachable } from '../../common/index.js';
import type { Run } from '../../parser/index.js';
import { cacheDirKey, mountKey, planMount, type MountFrom, type PlannedMount } from '../mounts.js';
import { checkNearStage, stageReference } from '../stages.js';
import { namedContextOf } from '../named-context.js';
import { lastKey, type LowerArgs } from './lowering.js';

/** `RUN --mount`s: checked, lowered, and what each adds to the key (planner/mounts.ts). */
export async function lowerMounts(ins: Run, a: LowerArgs): Promise<{ mounts: PlannedMount[]; keys: unknown[] }> {
  const mounts: PlannedMount[] = [];
  const keys: unknown[] = [];
  const cwd = a.cursor.config.WorkingDir || '/';
  const resolveFrom = async (name: string): Promise<MountFrom> => {
    const ref = stageReference(a.split, name, a.raw.index, { allowIndex: true, where: ins.range });
    if (ref !== undefined) {
      await a.lc.planStage(ref);
      a.dependsOn.push(ref);
      return { kind: 'stage', stage: ref };
    }
    const named = await namedContextOf(a.lc.opts.namedContext, name, ins.range);
    if (named?.kind === 'dir') return { kind: 'context', name: named.name };
    if (named?.kind === 'image') return { kind: 'image', image: named.image };
    checkNearStage(a.split, name, ins.range);
    return { kind: 'image', image: await a.lc.opts.resolveImage(name, ins.range, a.platform) };
  };
  for (const [i, m] of ins.mounts.entries()) {
    const planned = await planMount(m, i, { cwd, where: ins.range, resolveFrom });
    let content: unknown;
    switch (planned.type) {
      case 'cache':
        planned.dirKey = cacheDirKey(planned, planned.from === undefined ? undefined : await sourceContent(planned.from, planned.source, ins, a));
        break;
      case 'bind':
        content = await sourceContent(planned.from, planned.source, ins, a);
        break;
      case 'tmpfs':
      case 'secret':
      case 'ssh':
        break;
      default:
        unreachable(planned);
    }
    mounts.push(planned);
    keys.push(mountKey(planned, content));
  }
  return { mounts, keys };
}

/** What a mount's source holds, for the key: the context's digest, or the stage's or image's own key. */
async function sourceContent(from: MountFrom, source: string, ins: Run, a: LowerArgs): Promise<unknown> {
  switch (from.kind) {
    case 'context': {
      const rel = source === '/' ? '.' : source.slice(1);
      const named = from.name === undefined ? undefined : await namedContextOf(a.lc.opts.namedContext, from.name, ins.range);
      const hash = named?.kind === 'dir' ? named.hash : a.lc.opts.hashContext;
      return (await hash([rel], { excludes: [], where: ins.range, what: 'RUN --mount' })).digest;
    }
    case 'stage':
      return { stage: lastKey(await a.lc.planStage(from.stage)) };
    case 'image':
      return { image: from.image.manifestDigest };
    default:
      return unreachable(from);
  }
}
