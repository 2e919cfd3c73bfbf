/**
 * Run one command in a container through the static runtime helper (runtime-helper/):
 * the helper gets the spec on fd 3 and reports on fd 4; this module turns that into a
 * ContainerResult. It decides nothing about images: the caller gives the lower dirs,
 * argv, env, user ids — everything already resolved.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { UserError, helperPath } from '../common/index.js';
import { writeEtcFiles } from './container-etc.js';
import { parseReason, setupMessage } from './container-messages.js';
import { encodeSpec } from './container-spec.js';

export type ContainerRootfs =
  /** Overlay of `lowerDirs` (top-most first); without `upperDir` it is read-only. */
  | { kind: 'overlay'; lowerDirs: string[]; upperDir?: string; workDir?: string }
  /** A plain directory used as / (writes land in it directly). */
  | { kind: 'dir'; path: string };

export interface ContainerSpec {
  rootfs: ContainerRootfs;
  /** An empty host dir; the helper mounts a private tmpfs on it (invisible on the host). */
  mountPoint: string;
  argv: string[];
  /** Exactly the environment the command sees (`K=V`); PATH is looked up from it. */
  env: string[];
  /** Created (owned by root) when missing, like Docker. */
  cwd: string;
  user: { uid: number; gid: number; groups: number[] };
  hostname: string;
  /** `private`: its own network namespace, with a user-mode NAT to the outside (executor/network.ts);
   * `none`: loopback only; `host`: the host's (an explicit opt-in). */
  network: 'private' | 'host' | 'none';
  /** private: join this network namespace (a build's SharedNetwork) instead of making one. */
  netns?: string;
  /** private without netns: the NAT program (executor/network.ts natProgram). */
  nat?: string;
  /** `insecure` (RUN --security=insecure): every capability and no seccomp filter. */
  security?: 'sandbox' | 'insecure';
  /** `unconfined` (run --security-opt seccomp=unconfined): no seccomp filter. */
  seccomp?: 'default' | 'unconfined';
  /** `unconfined` (run --security-opt systempaths=unconfined): no masked or read-only /proc and
   * /sys paths, so that a container inside this one may mount its own /proc. */
  systemPaths?: 'default' | 'unconfined';
  /** false (run --security-opt no-new-privileges=false): setuid programs gain privileges
   * (newuidmap for a rootless tsbuild inside); default true. */
  noNewPrivileges?: boolean;
  /** run --device: host device nodes bound in; every other mount is nodev. */
  devices?: { source: string; target: string }[];
  tty: boolean;
  interactive: boolean;
  binds?: { source: string; target: string; readonly: boolean }[];
  /** Fresh tmpfs mounts (RUN --mount=type=tmpfs); `sizeBytes` absent: the kernel's default. */
  tmpfs?: { target: string; sizeBytes?: number }[];
  /** Where resolv.conf, hosts and hostname are written: the container's dir (`run`), or a
   * RUN step's private tmpfs (step-private.ts). */
  etcDir: string;
  /** The helper, and with it the container, is killed when this process dies (a RUN step);
   * never for `run -d`, which outlives tsbuild. */
  dieWithParent?: boolean;
  /** A foreground `run`: when this process dies the helper kills the container, then records
   * its end and cleans up (removeOnExit, cgroups) as after any end. */
  endWithParent?: boolean;
  /** Deleted by the helper itself once the command ended, even if tsbuild was killed (run --rm). */
  removeOnExit?: string[];
  /** The helper also writes its status line here (temp + rename), for `ps` after tsbuild is gone. */
  statusFile?: string;
  /** Cgroup dirs with limits written (executor/cgroups.ts): pid 1 joins them before anything
   * else runs; the helper removes them once the container ended. */
  cgroups?: string[];
  /** cgroup v2: the device allow-list the helper attaches as eBPF to `dir` (one of `cgroups`). */
  deviceFilter?: { dir: string; rules: string[] };
  /** run --read-only: the root filesystem is mounted read-only (mounts and binds keep theirs). */
  readOnly?: boolean;
  /** run --cap-add/--cap-drop: the capability set instead of Docker's (capabilitySet). */
  capabilities?: number;
  /** run -p (private network only): forwards from the host through slirp4netns, whose API socket is `api`. */
  publish?: { api: string; ports: PublishedPort[] };
  /** run -d: the output as timestamped records in `file` (runtime-helper/log.c), moved to
   * `file.1` past `maxBytes`; `tee` (a foreground run): passed on to the helper's stdout/stderr too. */
  log?: { file: string; maxBytes?: number; tee?: boolean };
  /** Once the command ended, the helper writes every entry below `dir` with its lstat and
   * xattrs into `out` (runtime-helper/tree.c), for executor/snapshot.ts. */
  tree?: { dir: string; out: string };
}

export interface PublishedPort {
  proto: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
  containerPort: number;
  /** Skipped where the host cannot bind it (`[::]` beside `0.0.0.0` on a host without IPv6). */
  optional?: boolean;
}

export type ContainerResult =
  | { kind: 'exited'; code: number }
  | { kind: 'signaled'; signal: number }
  | { kind: 'setup-failed'; code: 125 | 126 | 127; reason: string; message: string };

export interface ContainerIo {
  /** 'pipe': write to the `stdin` given to onStart, or pass `input`. Default 'ignore'. */
  stdin?: 'inherit' | 'ignore' | 'pipe';
  input?: Readable | Uint8Array | string;
  /** Default 'inherit'; ignored when the matching on… callback is given. */
  stdout?: 'inherit' | 'ignore';
  stderr?: 'inherit' | 'ignore';
  onStdout?(chunk: Uint8Array): void;
  onStderr?(chunk: Uint8Array): void;
  /** Called once the helper runs: its pid (for `ps`, `commit`) and stdin when piped. */
  onStart?(info: { pid: number; stdin?: Writable }): void;
  /** Forward SIGINT/SIGTERM/SIGHUP sent to tsbuild to the container (run in the foreground). */
  forwardSignals?: boolean;
  /** Aborted: the helper is killed (SIGKILL; its pid 1 dies with it, and so the whole pid
   * namespace), and the result is how it ended. */
  signal?: AbortSignal;
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function outputMode(mode: 'inherit' | 'ignore' | undefined, on: unknown): 'inherit' | 'ignore' | 'pipe' {
  return on ? 'pipe' : (mode ?? 'inherit');
}

/** Map the helper's status line and exit code to a result. */
export function parseStatus(status: string, exitCode: number | null, signal: NodeJS.Signals | null): ContainerResult {
  const line = status.trim().split('\n').pop() ?? '';
  const exited = /^exited (\d+)$/.exec(line);
  if (exited) return { kind: 'exited', code: Number(exited[1]) };
  const signaled = /^signaled (\d+)$/.exec(line);
  if (signaled) return { kind: 'signaled', signal: Number(signaled[1]) };
  if (line && (exitCode === 125 || exitCode === 126 || exitCode === 127)) {
    return { kind: 'setup-failed', code: exitCode, reason: line, message: setupMessage(parseReason(line)) };
  }
  throw new UserError(
    'container-helper',
    `runtime helper ended without a status (${signal ? `signal ${signal}` : `exit code ${exitCode}`})`,
    { where: helperPath },
  );
}

/** Start the helper and resolve with how the command ended. */
export async function runContainer(spec: ContainerSpec, io: ContainerIo = {}): Promise<ContainerResult> {
  const etc = await writeEtcFiles(spec.etcDir, spec.hostname, spec.network);
  return spawnHelper(encodeSpec(spec, etc), io);
}

/** Run the helper with `payload` on fd 3 (`args` picks a subcommand, e.g. `--enter`). */
export function spawnHelper(payload: Buffer, io: ContainerIo, args: string[] = []): Promise<ContainerResult> {
  return new Promise((resolve, reject) => {
    const stdio: StdioOptions = [
      io.stdin ?? 'ignore',
      outputMode(io.stdout, io.onStdout),
      outputMode(io.stderr, io.onStderr),
      'pipe', // fd 3: the spec
      'pipe', // fd 4: the status line
    ];
    const child = spawn(helperPath, args, { stdio });
    const status: Buffer[] = [];
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    const kill = () => child.kill('SIGKILL');
    const cleanup = () => {
      if (io.forwardSignals) for (const s of FORWARDED) process.off(s, forward);
      io.signal?.removeEventListener('abort', kill);
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      reject(
        err.code === 'ENOENT'
          ? new UserError('helper-missing', `runtime helper not found: ${helperPath}`, {
              hint: 'run `npm install` (it builds runtime-helper/ with musl-gcc or cc -static)',
            })
          : err,
      );
    });
    if (child.pid === undefined) return;
    if (io.forwardSignals) for (const s of FORWARDED) process.on(s, forward);
    if (io.signal?.aborted) kill();
    else io.signal?.addEventListener('abort', kill, { once: true });
    const specPipe = child.stdio[3] as Writable;
    specPipe.on('error', () => undefined); // the helper may die before reading: its status tells
    specPipe.end(payload);
    (child.stdio[4] as Readable).on('data', (b: Buffer) => status.push(b));
    if (io.onStdout) child.stdout?.on('data', io.onStdout);
    if (io.onStderr) child.stderr?.on('data', io.onStderr);
    if (io.stdin === 'pipe' && io.input !== undefined && child.stdin) {
      if (typeof io.input === 'string' || io.input instanceof Uint8Array) child.stdin.end(io.input);
      else io.input.pipe(child.stdin);
    }
    child.stdin?.on('error', () => undefined); // the command may exit without reading its input
    io.onStart?.({ pid: child.pid, stdin: child.stdin ?? undefined });
    child.on('close', (code, signal) => {
      cleanup();
      try {
        resolve(parseStatus(Buffer.concat(status).toString('utf8'), code, signal));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/**
 * Start a container that outlives tsbuild (`run -d`, `start`): its own session, its output
 * kept by the helper's log relay (`spec.log`), the end recorded only in `spec.statusFile`.
 * Resolves once the spec is handed over.
 */
export async function startDetached(spec: ContainerSpec): Promise<{ pid: number }> {
  if (!spec.statusFile || !spec.log || spec.dieWithParent) throw new Error('[internal] startDetached needs a statusFile and a log, and must outlive tsbuild');
  const etc = await writeEtcFiles(spec.etcDir, spec.hostname, spec.network);
  const payload = encodeSpec(spec, etc);
  return new Promise((resolve, reject) => {
    const child = spawn(helperPath, [], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'ignore'], detached: true });
    child.on('error', reject);
    if (child.pid === undefined) return;
    const pid = child.pid;
    const specPipe = child.stdio[3] as Writable;
    specPipe.on('error', () => undefined);
    specPipe.end(payload, () => {
      child.unref();
      (specPipe as Writable & { unref?: () => void }).unref?.();
      resolve({ pid });
    });
  });
}
