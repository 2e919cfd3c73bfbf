import type { ConfigEditor, ConfigStep, Step } from '../planner/index.js';
import type { BatchEntry, CacheRecord, CacheRecordStore } from '../store/index.js';
import { historyEntry, withStepResult, type StageState } from './stage-state.js';
import { whileRunning, type RunningSteps } from './running-steps.js';

/**
 * A run of consecutive config steps (LABEL, ENV, CMD …: no layer, nothing to run) is
 * cached as one record at its last step's key, listing each step's key and history entry
 * (CacheRecord.batch): 10,000 LABELs write and read one file, not 10,000. Keys chain (each
 * holds its parent's), so the last key names the whole run; the listed keys are the check.
 * A record covering another run (no batch, or one of another length) is no hit for this
 * one: each step then takes a record of its own if there is one, as stores written per
 * step (by earlier versions) have them, and runs now if not. A run of one is written as
 * a plain record: a record without a batch covers its own step.
 */

/** The config steps from `start` on, up to the next step of another kind. */
export function configRunAt(steps: readonly Step[], start: number): ConfigStep[] {
  const run: ConfigStep[] = [];
  for (let i = start; i < steps.length; i++) {
    const s = steps[i];
    if (s.op !== 'config') break;
    run.push(s);
  }
  return run;
}

export interface ConfigRunContext {
  cache: CacheRecordStore;
  /** The stage's editor: each step's edits go through it. */
  editor: ConfigEditor;
  /** `--no-cache` (or `--no-cache-filter` of the stage): nothing is looked up; the record is still written. */
  skipCache: boolean;
  /** Runs another platform's execution has in progress, by their last key (ExecuteOptions.shared). */
  running?: RunningSteps;
  /** The `created` of a step that runs now. */
  createdNow(): string;
  /** A step (at `offset` in the run) found no record, so its reason can be told at the next shown step. */
  onMiss(step: ConfigStep, offset: number): Promise<void>;
}

/** The state after the run: from its record, else from each step's own or run now, then recorded as one. */
export async function runConfigSteps(run: ConfigStep[], state: StageState, rc: ConfigRunContext): Promise<StageState> {
  const key = run[run.length - 1].cacheKey;
  let found = rc.skipCache ? undefined : await rc.cache.get(key);
  let covered = found && coveredEntries(found, run);
  const running = rc.running?.get(key);
  if (!covered && running && !rc.skipCache) {
    // Another platform's execution runs this very run: its record serves both.
    await running.catch(() => undefined);
    found = await rc.cache.get(key);
    covered = found && coveredEntries(found, run);
  }
  if (covered) {
    // History only: an entry brings no layer, whatever a record from elsewhere holds.
    for (let i = 0; i < run.length; i++) state = withStepResult(state, run[i], { history: covered[i].history }, rc.editor);
    return state;
  }
  return whileRunning(rc.running, key, async () => {
    const { next, entries, hasRun } = await stepByStep(run, state, found, rc);
    // Kept only when every step took a record of its own and the one at this key is a
    // batch (of a longer run, through FROM <stage>); records written per step become one.
    if (hasRun || !found?.batch) await rc.cache.put(runRecord(run, entries));
    return next;
  });
}

/**
 * Each step from a record of its own (`last` is the one at the run's key), else run now.
 * Keys chain, so after one step found none the later ones have none either (a record is
 * written only after its parent's): they are not looked for (10,000 LABELs in a cold store
 * were 10,000 lookups, 61 ms).
 */
async function stepByStep(run: ConfigStep[], state: StageState, last: CacheRecord | undefined, rc: ConfigRunContext) {
  const entries: BatchEntry[] = [];
  let hasRun = false;
  for (let i = 0; i < run.length; i++) {
    const step = run[i];
    const own = rc.skipCache ? undefined : i === run.length - 1 ? last : hasRun ? undefined : await rc.cache.get(step.cacheKey);
    let history = own?.history;
    if (!history) {
      if (!rc.skipCache) await rc.onMiss(step, i);
      history = historyEntry(step, rc.createdNow(), false);
      hasRun = true;
    }
    entries.push({ key: step.cacheKey, history });
    state = withStepResult(state, step, { history }, rc.editor);
  }
  return { next: state, entries, hasRun };
}

/** The record's entries if it covers exactly `run`, step by step. */
function coveredEntries(rec: CacheRecord, run: ConfigStep[]): BatchEntry[] | undefined {
  const batch = rec.batch ?? [{ key: rec.key, history: rec.history }];
  if (!Array.isArray(batch) || batch.length !== run.length) return undefined;
  return batch.every((e, i) => e?.key === run[i].cacheKey && typeof e.history === 'object' && e.history !== null) ? batch : undefined;
}

/** The record of a run: its last step's, with every step's entry when there are several. */
function runRecord(run: ConfigStep[], entries: BatchEntry[]): CacheRecord {
  const last = run[run.length - 1];
  const rec: CacheRecord = { key: last.cacheKey, history: entries[entries.length - 1].history, keyParts: last.keyParts };
  return run.length > 1 ? { ...rec, batch: entries } : rec;
}
