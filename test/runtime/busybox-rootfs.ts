/**
 * Test fixture: a busybox root filesystem made at run time from the host's busybox-static
 * (relative applet links, /etc/passwd with root and nobody, /tmp 1777), and a small
 * wrapper that runs one command over it with the runtime helper and collects the output.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runContainer, type ContainerResult, type ContainerSpec } from '../../executor/container.js';

export const BUSYBOX = '/bin/busybox';

/** Fill `dir` with a minimal busybox rootfs. */
export function makeBusyboxRootfs(dir: string): string {
  for (const d of ['bin', 'etc', 'root', 'home', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync(BUSYBOX, join(dir, 'bin', 'busybox'));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(dir, 'bin', a));
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  return dir;
}

/** A temp dir for one test, with `lower/` holding a busybox rootfs. */
export function makeSandbox(): { dir: string; lower: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tsbuild-rt-'));
  const lower = makeBusyboxRootfs(join(dir, 'lower'));
  return { dir, lower };
}

export interface RunOutput {
  result: ContainerResult;
  stdout: string;
  stderr: string;
}

let counter = 0;

/** Run `argv` over lower dirs (top-most first) with a fresh upper dir under `dir`. */
export async function runIn(
  dir: string,
  lowerDirs: string[],
  argv: string[],
  over: Partial<ContainerSpec> & { input?: string } = {},
): Promise<RunOutput & { upperDir: string }> {
  const n = ++counter;
  const upperDir = join(dir, `upper${n}`);
  const workDir = join(dir, `work${n}`);
  const mountPoint = join(dir, `mnt${n}`);
  const etcDir = join(dir, `etc${n}`);
  for (const d of [upperDir, workDir, mountPoint, etcDir]) mkdirSync(d);
  const { input, ...rest } = over;
  const spec: ContainerSpec = {
    rootfs: { kind: 'overlay', lowerDirs, upperDir, workDir },
    mountPoint,
    etcDir,
    argv,
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    cwd: '/',
    user: { uid: 0, gid: 0, groups: [] },
    hostname: 'testbox',
    network: 'host',
    tty: false,
    interactive: false,
    ...rest,
  };
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const result = await runContainer(spec, {
    stdin: input === undefined ? 'ignore' : 'pipe',
    input,
    onStdout: (b) => out.push(Buffer.from(b)),
    onStderr: (b) => err.push(Buffer.from(b)),
  });
  return { result, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), upperDir };
}

/** `sh -c SCRIPT` in a busybox container; returns stdout (asserting nothing). */
export async function sh(dir: string, lower: string, script: string, over: Partial<ContainerSpec> = {}): Promise<RunOutput & { upperDir: string }> {
  return runIn(dir, [lower], ['sh', '-c', script], over);
}
