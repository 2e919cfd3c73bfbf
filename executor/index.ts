/**
 * executor/: runs a Plan — RUN steps in containers through the runtime helper, COPY/ADD
 * straight into layer tars, config edits — and writes the image to the store. It reads no
 * Dockerfile syntax: the planner has lowered everything to exec/copy/config steps.
 */
export { executeBuild, sharedExecution, type ExecuteOptions, type BuildResult, type ExportWriter, type SharedExecution } from './build.js';
export type { ContextDir } from './mounts.js';
export { copyTree, type CopyTreeOptions } from './copy-tree.js';

export { silentProgress, type ProgressSink } from './progress.js';
export { runContainer, startDetached, type ContainerSpec, type ContainerResult, type ContainerIo, type PublishedPort } from './container.js';
export { capabilitySet } from './capabilities.js';
export * from './container-config.js';
export { enterContainer, type EnterSpec } from './container-enter.js';
export { containerInit, containerProcesses, type ContainerProcess } from './container-processes.js';
export { parseDevice, type DeviceMapping } from './devices.js';
export { parseSecurityOpts, type SecurityOpts } from './security-opts.js';
export { deviceRules } from './cgroups-limits.js';
export { snapshotDir } from './snapshot.js';
export { resolveUser, resolveChown } from './user.js';
export { defaultRuntimeSettings, type RuntimeSettings } from './settings.js';
export { natProgram } from './network.js';
export { parseMemory, parsePidsLimit, parseCpus, type ResourceLimits } from './cgroups-limits.js';
export { createCgroup, discoverCgroups, type CgroupLayout, type ContainerCgroup } from './cgroups.js';
export { withRootfsView, withContainerView } from './rootfs-view.js';
export { tarLayerDescriptor } from './layer-descriptor.js';
export { failedStepSpec, type FailedStep, type FailedStepHandler } from './failed-step.js';
export { emulatorFor } from './emulation.js';
export { probeRootless, type RootlessProbe } from './rootless-probe.js';
export { makeCopyRootfs, adoptCopyRootfs, containerRootfs, containerLayer, copyContainerChanges } from './copy-container.js';
export { chooseSnapshotter, type Snapshotter, type SnapshotterChoice, type SnapshotterSetting } from './snapshotter.js';
