import type { Instruction, RawDockerfile } from '../parser/index.js';
import { docComment } from './doc-comment.js';
import { locationOf, type TargetList } from './subrequest-types.js';

/** `--call targets` (dockerfile2llb.ListTargets): every stage, the last one the default. */
export function listTargets(raw: RawDockerfile, typed: readonly Instruction[], text: string): TargetList {
  const froms = typed.flatMap((t, i) => (t.kind === 'from' ? [{ t, node: raw.instructions[i] }] : []));
  return {
    targets: froms.map(({ t, node }, k) => {
      const name = t.stageName?.toLowerCase();
      const description = name ? docComment(node.comments, name) : undefined;
      return {
        ...(name ? { name } : {}),
        ...(k === froms.length - 1 ? { default: true } : {}),
        ...(description ? { description } : {}),
        base: t.image,
        ...(t.platform ? { platform: t.platform } : {}),
        location: locationOf(node.range),
      };
    }),
    sources: [Buffer.from(text, 'utf8').toString('base64')],
  };
}
