import { expandWord, type Instruction } from '../parser/index.js';

/**
 * Which stages a target needs, read from the Dockerfile alone (BuildKit's
 * buildStageDependencyGraph): an earlier stage named by FROM, COPY/ADD --from or
 * RUN --mount from=, by name or (not for FROM) index. Names expand with the global args.
 */
export function reachableStages(typed: readonly Instruction[], target: number, env: ReadonlyMap<string, string>, escape: string): Set<number> {
  const stages: { name?: string; refs: { word: string; index: boolean }[] }[] = [];
  for (const ins of typed) {
    if (ins.kind === 'from') stages.push({ name: ins.stageName?.toLowerCase(), refs: [{ word: ins.image, index: false }] });
    const s = stages[stages.length - 1];
    if (!s) continue;
    if ((ins.kind === 'copy' || ins.kind === 'add') && ins.from !== undefined) s.refs.push({ word: ins.from, index: true });
    if (ins.kind === 'run') for (const m of ins.mounts) if (m.options.from !== undefined) s.refs.push({ word: m.options.from, index: true });
  }
  const out = new Set<number>();
  const visit = (k: number) => {
    if (out.has(k) || !stages[k]) return;
    out.add(k);
    for (const r of stages[k].refs) {
      let name: string;
      try {
        name = expandWord(r.word, env, { escape }).value.toLowerCase();
      } catch {
        continue;
      }
      const i = stages.findIndex((s, j) => j < k && s.name === name);
      if (i >= 0) visit(i);
      else if (r.index && /^[0-9]+$/.test(name) && Number(name) < k) visit(Number(name));
    }
  };
  visit(target);
  return out;
}
