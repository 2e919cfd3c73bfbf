import type { SourceRange } from '../../common/index.js';
import type { Heredoc } from '../heredoc.js';

/**
 * The typed instructions: one variant per Dockerfile instruction, discriminated by `kind`.
 * Values are as written (unexpanded, quotes kept where Docker keeps them until expansion);
 * `expandInstruction` applies Docker's expansion rules.
 */
interface Located {
  /** The whole instruction, continuation lines and heredoc bodies included. */
  range: SourceRange;
  /** Just the keyword, for a caret under it. */
  keywordRange: SourceRange;
}

export type CommandLine =
  | { form: 'exec'; argv: string[] }
  | { form: 'shell'; script: string; heredocs: Heredoc[] };

export interface From extends Located {
  kind: 'from';
  image: string;
  platform?: string;
  /** `AS name` as written (the planner compares it case-insensitively). */
  stageName?: string;
}

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';

export interface RunMount {
  type: MountType;
  /** Options by canonical key (`source`, `target`, `readonly`, `id`, …); bare booleans are "true". */
  options: Record<string, string>;
  /** The `--mount` value as written. */
  spec: string;
}

export type RunNetwork = 'default' | 'none' | 'host';

export interface Run extends Located {
  kind: 'run';
  command: CommandLine;
  mounts: RunMount[];
  /** `--network`; undefined when not given (the build's setting applies). */
  network?: RunNetwork;
  security?: 'sandbox' | 'insecure';
}

export interface Cmd extends Located {
  kind: 'cmd';
  command: CommandLine;
}

export interface Entrypoint extends Located {
  kind: 'entrypoint';
  command: CommandLine;
}

export interface Shell extends Located {
  kind: 'shell';
  argv: string[];
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface Env extends Located {
  kind: 'env';
  pairs: KeyValue[];
}

export interface Label extends Located {
  kind: 'label';
  pairs: KeyValue[];
}

export interface ArgDecl {
  name: string;
  default?: string;
}

export interface Arg extends Located {
  kind: 'arg';
  args: ArgDecl[];
}

interface CopyFields extends Located {
  /** Source paths (heredoc sources are in `heredocs`). */
  sources: string[];
  dest: string;
  /** Inline files (`COPY <<EOF /dest`), body as written; `chomp` bodies lose leading tabs when used. */
  heredocs: Heredoc[];
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  parents: boolean;
  exclude: string[];
  checksum?: string;
  keepGitDir: boolean;
  /** ADD --unpack; undefined when not given. */
  unpack?: boolean;
  isJson: boolean;
}

export interface Copy extends CopyFields {
  kind: 'copy';
}

export interface Add extends CopyFields {
  kind: 'add';
}

export interface Workdir extends Located {
  kind: 'workdir';
  path: string;
}

export interface User extends Located {
  kind: 'user';
  user: string;
}

export interface Expose extends Located {
  kind: 'expose';
  /** Sorted, as BuildKit does. */
  ports: string[];
}

export interface Volume extends Located {
  kind: 'volume';
  paths: string[];
}

export interface Stopsignal extends Located {
  kind: 'stopsignal';
  signal: string;
}

export type HealthcheckSpec =
  | { kind: 'none' }
  | {
      kind: 'cmd';
      test: CommandLine;
      intervalNs?: number;
      timeoutNs?: number;
      startPeriodNs?: number;
      startIntervalNs?: number;
      retries?: number;
    };

export interface Healthcheck extends Located {
  kind: 'healthcheck';
  check: HealthcheckSpec;
}

export interface Onbuild extends Located {
  kind: 'onbuild';
  /** The trigger as recorded in the image config (heredoc bodies appended). */
  expression: string;
  instruction: Instruction;
}

export interface Maintainer extends Located {
  kind: 'maintainer';
  name: string;
}

export type Instruction =
  | From | Run | Cmd | Entrypoint | Shell | Env | Label | Arg | Copy | Add
  | Workdir | User | Expose | Volume | Stopsignal | Healthcheck | Onbuild | Maintainer;

export type InstructionKind = Instruction['kind'];

export type { Heredoc };
