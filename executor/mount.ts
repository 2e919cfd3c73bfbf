import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { promisify } from 'node:util';
import { helperPath } from '../common/index.js';

const run = promisify(execFile);

/**
 * Mounts the executor makes outside containers (tmpfs, read-only overlay views), made by the
 * static helper (runtime-helper/mount-cmd.c) rather than util-linux's mount(8), whose
 * start-up alone costs more than the mount: a multi-stage build makes several. Options as
 * mount -o takes them (`ro` is the read-only flag). Rejects with the helper's one-line
 * reason (`mount overlay on /x: Invalid argument`).
 */
export function mount(fstype: string, source: string, target: string, options: string, opts: { cwd?: string } = {}): Promise<void> {
  return helper(['--mount', fstype, source, target, options], opts.cwd);
}

/** Unmount `target`; `lazy` detaches a busy mount (MNT_DETACH). */
export function unmount(target: string, opts: { lazy?: boolean } = {}): Promise<void> {
  return helper(['--umount', target, ...(opts.lazy ? ['lazy'] : [])]);
}

async function helper(args: string[], cwd?: string): Promise<void> {
  const r = await server.call(args, cwd ?? process.cwd());
  if (r !== undefined) {
    if (r.code !== 0) throw new Error(r.error || `tsbuild-helper ${args[0]} exited ${r.code}`);
    return;
  }
  try {
    await run(helperPath, args, { cwd });
  } catch (e) {
    throw new Error(String((e as { stderr?: string }).stderr ?? '').trim() || (e as Error).message);
  }
}

type Reply = { code: number; error: string };

/**
 * The helper's `--mount-server` (runtime-helper/mount-server.c), started at the first mount:
 * a spawn from Node forks all of Node (~2 ms each in a build, 56 of them in workload 2), one
 * process serves them all, one at a time. Undefined from `call` when there is no server (it
 * could not start, or it ended): the caller spawns the helper as before.
 */
class MountServer {
  private child: ChildProcess | undefined;
  private isBroken = false;
  private queue: Promise<unknown> = Promise.resolve();
  private input: Buffer = Buffer.alloc(0);
  private pending: ((r: Reply) => void) | undefined;

  call(args: string[], cwd: string): Promise<Reply | undefined> {
    const p = this.queue.then(() => this.request(args, cwd));
    this.queue = p.catch(() => undefined);
    return p;
  }

  private started(): ChildProcess | undefined {
    if (this.isBroken) return undefined;
    if (this.child) return this.child;
    const child = spawn(helperPath, ['--mount-server'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const end = () => {
      this.isBroken = true;
      this.child = undefined;
      // A request under way may have been done or not: it fails rather than being made twice.
      this.pending?.({ code: -1, error: 'tsbuild-helper --mount-server ended' });
      this.pending = undefined;
    };
    child.on('error', end);
    child.on('exit', end);
    child.stdin!.on('error', () => undefined); // the server gone: `exit` says so
    child.stdout!.on('data', (b: Buffer) => this.receive(b));
    // Idle, it keeps nothing alive: tsbuild exits, and the server with it (end of its input).
    child.unref();
    (child.stdin as unknown as Socket).unref();
    (child.stdout as unknown as Socket).unref();
    this.child = child;
    return child;
  }

  private receive(b: Buffer): void {
    this.input = this.input.length ? Buffer.concat([this.input, b]) : b;
    if (this.input.length < 8) return;
    const len = this.input.readUInt32LE(4);
    if (this.input.length < 8 + len) return;
    const reply = { code: this.input.readUInt32LE(0), error: this.input.toString('utf8', 8, 8 + len) };
    this.input = this.input.subarray(8 + len);
    const done = this.pending;
    this.pending = undefined;
    done?.(reply);
  }

  private request(args: string[], cwd: string): Promise<Reply | undefined> {
    const child = this.started();
    if (!child) return Promise.resolve(undefined);
    const body = Buffer.from([cwd, ...args].map((s) => `${s}\0`).join(''), 'utf8');
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length);
    const out = child.stdout as unknown as Socket;
    out.ref(); // waiting for the reply keeps tsbuild alive
    return new Promise<Reply>((resolve) => {
      this.pending = resolve;
      child.stdin!.write(Buffer.concat([head, body]));
    }).finally(() => out.unref());
  }
}

const server = new MountServer();
