import type { SourceSelection } from '../context/index.js';
import type { Digest, SourceRange, UserError } from '../common/index.js';
import type { ConfigEdit } from './config-edit.js';
import type { ContainerConfig, HistoryEntry, ImageConfig, Descriptor } from '../store/index.js';
import type { KeyParts } from './cache-key.js';
import type { PlannedMount } from './mounts.js';
import type { ResolvedRemote } from '../remote/index.js';

/**
 * The planner's output: stages of steps in four kinds (DESIGN.md): the executor runs
 * these without knowing what a Dockerfile is. Every step keeps its `origin` so a failure
 * points back at the instruction, and its `cacheKey` (planner/cache-key.ts).
 */
export interface StepBase {
  /** 1-based position in the stage, for `[2/3]` display. */
  index: number;
  /** The display line: `ADD hello /`. */
  display: string;
  /** History `created_by` as Docker writes it. */
  createdBy: string;
  cacheKey: Digest;
  /** The readable object the key is the digest of (kept to explain misses). */
  keyParts: KeyParts;
  /** What is not in the key but names a change: per-file fingerprints of a COPY's sources. */
  explain?: { files?: Record<string, string> };
  origin: SourceRange;
  /** Config changes applied after the step's own work (all a `config` step does). */
  edits: ConfigEdit[];
  /** MAINTAINER sets the image's author. */
  author?: string;
}

export type Network = 'default' | 'none' | 'host';

/** BuildKit's entitlements, granted by `--allow` (BuildKit: `docker buildx build --allow`). */
export type Entitlement = 'network.host' | 'security.insecure';
export const ENTITLEMENTS: readonly Entitlement[] = ['network.host', 'security.insecure'];

export interface ExecStep extends StepBase {
  op: 'exec';
  argv: string[];
  env: string[];
  cwd: string;
  /** USER as written (name or uid[:gid]); resolved against the rootfs when run. */
  user: string;
  network: Network;
  /** `RUN --security=insecure`: every capability, no seccomp (granted by security.insecure). */
  security: 'sandbox' | 'insecure';
  /** Heredoc files to provide to the command (for `RUN <<EOF` with a non-shell interpreter). */
  files: { path: string; content: string; mode: number }[];
  /** `RUN --mount`s (planner/mounts.ts); never part of the image. */
  mounts: PlannedMount[];
}

export interface CopyStep extends StepBase {
  op: 'copy';
  /**
   * Where sources come from: the build context (or the `--build-context` directory `name`),
   * another stage, an image, or ADD's URLs and git repositories.
   */
  from:
    | { kind: 'context'; name?: string }
    | { kind: 'stage'; stage: number }
    | { kind: 'image'; image: BaseImage }
    | { kind: 'remote'; remotes: ResolvedRemote[] };
  sources: string[];
  /** Files given inline by heredocs: `COPY <<EOF /x`. */
  inline: { name: string; content: string }[];
  dest: string;
  workdir: string;
  chown?: string;
  chmod?: string;
  excludes: string[];
  parents: boolean;
  isAdd: boolean;
  /** ADD: extract tar archives (`--unpack`: by default local ones only); COPY never does. */
  unpack: boolean;
  /** `--link`: written without reading the image below (no symlink in the destination is followed). */
  link: boolean;
  /** Only create `dest` as a directory (WORKDIR); sources are empty. */
  mkdirOnly: boolean;
  /** The context files the key was computed from (in memory only): the executor copies these. */
  contextSelection?: SourceSelection;
  /** A context source that was missing while planning (PlanOptions.deferMissingSources): the
   * step fails with this when it runs, after the steps before it. */
  missingSource?: UserError;
}

export interface ConfigStep extends StepBase {
  op: 'config';
}

export type Step = ExecStep | CopyStep | ConfigStep;

/** A base image resolved to what the store holds (or will after a pull). */
export interface BaseImage {
  /** Normalised reference as the user named it. */
  ref: string;
  id: Digest;
  manifestDigest: Digest;
  config: ImageConfig;
  layers: Descriptor[];
}

export type StageBase = { kind: 'scratch' } | { kind: 'image'; image: BaseImage } | { kind: 'stage'; stage: number };

export interface Stage {
  index: number;
  name?: string;
  base: StageBase;
  /** Key of the empty state of this stage (base image digest, or the base stage's last key). */
  baseKey: Digest;
  /** FROM's own display and history. */
  fromDisplay: string;
  origin: SourceRange;
  steps: Step[];
  /** Stages whose results this one needs (COPY --from, FROM stage). */
  dependsOn: number[];
  /** History entries inherited from a stage base are added by the executor; this is the platform. */
  platform: { os: string; architecture: string; variant?: string };
  /**
   * The container config the stage starts from: its base's, as BuildKit completes it
   * (scratch: PATH and WorkingDir; an image without PATH: the default PATH added).
   */
  baseConfig: ContainerConfig;
  /** The container config the stage ends with (what `FROM <this stage>` starts from). */
  finalConfig: ContainerConfig;
  /** The ARGs the stage ends with (its own and inherited), in declaration order: `FROM <this stage>` inherits them. */
  args: [string, string | undefined][];
}

export interface Plan {
  stages: Stage[];
  /** The stage whose result is the image. */
  target: number;
  /** Stages that must run, in dependency order (the target's closure only). */
  order: number[];
  /** What the build should say once, before its steps (build args no stage consumed …). */
  warnings: string[];
  /** `SOURCE_DATE_EPOCH` from a build arg or a global `ARG SOURCE_DATE_EPOCH=<default>`. */
  sourceDateEpoch?: number;
}

export type { HistoryEntry };
