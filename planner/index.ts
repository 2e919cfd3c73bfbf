/**
 * planner/: Dockerfile instructions → a Plan (stages of exec/copy/config steps with cache
 * keys); ARG/ENV scoping, --target pruning, one lowering per instruction (planner/lower/).
 * What a COPY selects from the build context and its digest come from context/.
 * It must never run anything: it decides what runs and what each result is keyed by.
 */
export { planBuild, type PlanOptions } from './plan-build.js';
export type { Plan, Stage, StageBase, Step, ExecStep, CopyStep, ConfigStep, BaseImage, Network, Entitlement } from './step.js';
export { ENTITLEMENTS } from './step.js';
export { cacheKeyOf, explainMiss, type KeyParts } from './cache-key.js';
export { ConfigEditor, applyConfigEdit, envValue, type ConfigEdit } from './config-edit.js';
export { configEditsOf } from './changes.js';
export type { MountFrom, PlannedMount } from './mounts.js';
export * from './checks/index.js';
export { outlineOf, type OutlineOptions } from './outline.js';
export { listTargets } from './targets.js';
export { planWork } from './work-meter.js';
export type * from './subrequest-types.js';
export type { NamedContext, NamedContextResolver } from './named-context.js';
