import type { Digest } from '../common/index.js';
import type { Descriptor, HistoryEntry, ImageConfig } from '../store/index.js';
import type { BaseImage } from '../planner/index.js';

/** The image a stage has built so far: layers, config and history, plus the last cache key. */
export interface StageState {
  layers: Descriptor[];
  config: ImageConfig;
  history: HistoryEntry[];
}

/** BuildKit gives a scratch image a default PATH (dockerfile2llb emptyImage). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function scratchState(platform: { os: string; architecture: string; variant?: string }): StageState {
  return {
    layers: [],
    config: {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: { Env: [`PATH=${DEFAULT_PATH}`] },
      rootfs: { type: 'layers', diff_ids: [] },
    },
    history: [],
  };
}

export function imageState(image: BaseImage): StageState {
  const config = structuredClone(image.config);
  config.config ??= {};
  // A child does not inherit its base's ONBUILD triggers (they ran at FROM).
  delete config.config.OnBuild;
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
