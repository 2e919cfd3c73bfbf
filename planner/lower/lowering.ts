import type { Digest, Platform } from '../../common/index.js';
import type { ContainerConfig } from '../../store/index.js';
import type { ConfigEditor } from '../config-edit.js';
import type { PlanOptions } from '../plan-build.js';
import type { StageScope } from '../scope.js';
import type { RawStage, SplitDockerfile } from '../stages.js';
import type { Stage } from '../step.js';

/** What one build's lowering shares across its stages. */
export interface LowerContext {
  opts: PlanOptions;
  globalArgs: Map<string, string | undefined>;
  consumed: Set<string>;
  planStage(index: number): Promise<Stage>;
}

/** Mutable per-stage state while lowering: what the next instruction sees. */
export interface Cursor {
  /** The stage's config so far: the editor's own object, changed in place by each step's edits. */
  readonly config: ContainerConfig;
  readonly editor: ConfigEditor;
  key: Digest;
  cmdSet: boolean;
}

/** What every instruction's lowering gets: the Dockerfile, its stage, and the stage so far. */
export interface LowerArgs {
  split: SplitDockerfile;
  raw: RawStage;
  cursor: Cursor;
  scope: StageScope;
  lc: LowerContext;
  /** The next numbered vertex, `[2/5]`, for a step that makes a layer. */
  label: () => string;
  dependsOn: number[];
  /** The stage's platform (FROM --platform, else the build's target): images it names are picked for it. */
  platform: Platform;
}

/** The key a stage ends with: its last step's, or its base's when it has none. */
export function lastKey(stage: Stage): Digest {
  return stage.steps.length ? stage.steps[stage.steps.length - 1].cacheKey : stage.baseKey;
}
