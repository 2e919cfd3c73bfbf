import { cacheKeyOf, type Plan, type Step } from '../planner/index.js';

/**
 * The plan with SOURCE_DATE_EPOCH in every step's cache key. A layer's mtimes are clamped to
 * the epoch when it is written and a history entry takes the epoch as its time, so a record
 * made without it (or with another) holds other bytes: reused, it gave an image that a fresh
 * build under the epoch does not. BuildKit gets there by rewriting at export instead
 * (patchImageConfig in exporter/containerimage/writer.go clamps the history times).
 */
export function withEpochKeys(plan: Plan, sourceDateEpoch: number | undefined): Plan {
  if (sourceDateEpoch === undefined) return plan;
  const rekey = (s: Step): Step => {
    const keyParts = { ...s.keyParts, SOURCE_DATE_EPOCH: sourceDateEpoch };
    return { ...s, keyParts, cacheKey: cacheKeyOf(keyParts) };
  };
  return { ...plan, stages: plan.stages.map((st) => ({ ...st, steps: st.steps.map(rekey) })) };
}
