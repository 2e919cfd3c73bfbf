import type { Digest } from '../common/index.js';
import type { ContainerConfig, Descriptor, HistoryEntry, ImageConfig } from '../store/index.js';
import type { BaseImage, ConfigEditor, Step } from '../planner/index.js';

/** The image a stage has built so far: layers, config and history, plus the last cache key. */
export interface StageState {
  layers: Descriptor[];
  config: ImageConfig;
  history: HistoryEntry[];
}

/** An empty image for `platform` whose container config is the planner's `baseConfig` (PATH, WorkingDir). */
export function scratchState(platform: { os: string; architecture: string; variant?: string }, baseConfig: ContainerConfig): StageState {
  return {
    layers: [],
    config: {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: structuredClone(baseConfig),
      rootfs: { type: 'layers', diff_ids: [] },
    },
    history: [],
  };
}

/**
 * A base image as a stage starts from it, its container config replaced by the planner's
 * `baseConfig` (the image's, ONBUILD triggers dropped since they ran at FROM, default PATH added).
 */
export function imageState(image: BaseImage, baseConfig: ContainerConfig): StageState {
  const config = structuredClone(image.config);
  config.config = structuredClone(baseConfig);
  return { layers: [...image.layers], config, history: [...(image.config.history ?? [])] };
}

/** A new state with one more layer (diff_id == digest for the store's uncompressed layers). */
export function withLayer(state: StageState, layer: Descriptor, diffId: Digest): StageState {
  return {
    ...state,
    layers: [...state.layers, layer],
    config: {
      ...state.config,
      rootfs: { type: 'layers', diff_ids: [...state.config.rootfs.diff_ids, diffId] },
    },
  };
}

/** The state after a step: its layer (if any), its config edits (through the stage's editor), its history entry. */
export function withStepResult(
  state: StageState,
  step: Step,
  result: { layer?: Descriptor; history: HistoryEntry },
  editor: ConfigEditor,
): StageState {
  const next = result.layer ? withLayer(state, result.layer, result.layer.digest as Digest) : state;
  for (const e of step.edits) editor.apply(e);
  next.history.push(result.history);
  if (step.author !== undefined) next.config = { ...next.config, author: step.author };
  return next;
}

/** The history entry of a step that ran now, at `created`. */
export function historyEntry(step: Step, created: string, hasLayer: boolean): HistoryEntry {
  const history: HistoryEntry = { created, created_by: step.createdBy };
  if (!hasLayer) history.empty_layer = true;
  if (step.author !== undefined) history.author = step.author;
  return history;
}
