/**
 * engine/: tsbuild's public API — what `import { build, run, pull, push, save, load, openStore }
 * from 'tsbuild'` gives. Each call takes one typed options object and reports progress as
 * typed events; failures a user can act on are UserErrors. It orchestrates the other
 * folders (parser → planner → executor → store, registry beside) and holds no argv, no
 * terminal and no process.env of its own: the CLI is one client (argv → options → call →
 * render), and settings come from engine/settings.ts or the caller.
 */
export { failedStepMessages, type OnError } from './failed-step.js';
export { build, buildMessages, type BuildOptions, type BuildResult, type CallResult, type Call, type InputObserver } from './build.js';
export type { CheckWarning, LintResults, Outline, TargetList } from '../planner/index.js';
export { ANNOTATION_TYPES, outputMessages, type BuildOutput, type Annotation, type AnnotationType } from './outputs.js';
export { buildContextMessages, type BuildContextSource } from './build-contexts.js';
export { Job, JobProgressEvent, type ProgressEvent } from './events.js';
export { compressionMessages, type CompressionOption } from './compression.js';
export { parseStorageSize, gcCapBytes } from './gc-policy.js';
export { settingsFromEnv, registrySettings, type Settings } from './settings.js';
export { defaultRoot } from '../common/index.js';
export { environmentInfo, type EnvironmentInfo } from './environment-info.js';
export { login, type LoginOptions } from '../registry/index.js';
export type { CacheSpec } from './cache-transfer.js';
export type { StoreOption } from './store-option.js';
export { ENTITLEMENTS, type Entitlement } from '../planner/index.js';
export type { ProgressSink } from '../executor/index.js';
export { openStore, type Store, type ImageRecord } from '../store/index.js';
export { UserError, UserErrors, type Digest, type SourceRange } from '../common/index.js';
export { run, runMessages, type RunOptions, type RunResult } from './run.js';
export { hostPortText } from './run-ports.js';
export { expandEnvFlags, parseEnvFile } from '../executor/index.js';
export { pull, push, save, load, importImage, removeImage, type CallOptions, type Removal } from './images.js';
export { commit, removeContainer, findContainer, enterContainer, containerMessages, type EnterOptions } from './containers.js';
export type { LoadedImage, SaveFormat, ContainerRecord } from '../store/index.js';
export { parseReference, formatReference, familiarName, normaliseName } from '../store/index.js';
export type { StopOptions } from './container-control.js';
export { stopContainer, killContainer, waitContainer, startContainer, restartContainer, renameContainer, pruneContainers, controlMessages } from './container-control.js';
export { parseSignal, signalMessages } from './signals.js';
export { containerLogs, type LogsOptions } from './container-logs.js';
export { execInContainer, execMessages, type ExecOptions } from './container-exec.js';
export { copyFiles, copyMessages } from './container-copy.js';
export { containerChanges, type Change } from './container-diff.js';
export { containerTop, type TopResult } from './container-top.js';
export { listVolumes, createVolume, inspectVolume, removeVolume, pruneVolumes, volumeMessages } from './volumes.js';
export type { VolumeRecord } from '../store/index.js';
