/**
 * The tools `npm run bench` compares: tsbuild, Docker's BuildKit (a private dockerd the bench
 * starts and stops by PID) and Buildah. Each can empty its store and load base images from the
 * same archives (`tsbuild save` output, which both `docker load` and `buildah pull
 * docker-archive:` read), and gives the argv of one build.
 */
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../common/index.js';

export const cli = join(projectRoot, 'dist', 'tsbuild.cjs');

export function must(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0) throw new Error(`bench: ${argv.join(' ')} failed (${r.status ?? r.signal}):\n${(r.stderr || r.error?.message || '').slice(-3000)}`);
  return r.stdout;
}

/** Which kind of rebuild is timed: tsbuild reads TSBUILD_REPLAY; the peers rebuild the same way both times. */
export type BuildKind = 'build' | 'first-rebuild' | 'replayed';

export interface Tool {
  name: string;
  /** An empty store holding just these images (archives from `tsbuild save`). */
  reset(archives: string[]): void;
  build(dir: string, tag: string): string[];
  env(kind: BuildKind): NodeJS.ProcessEnv;
  /** Peak RSS (MB) of a daemon doing the builds since the last call, if the tool has one. */
  daemonPeakMb?(): number;
  stop(): Promise<void>;
}

/** Until no tsbuild process holds a layer's extraction lock in the store at `root` (2 min at most). */
export function waitForExtractions(root: string): void {
  const locks = join(root, 'locks');
  for (let i = 0; i < 1200; i++) {
    const held = existsSync(locks) && readdirSync(locks).some((n) => n.startsWith('layer-'));
    if (!held) return;
    spawnSync('sleep', ['0.1']);
  }
}

export function tsbuildTool(work: string): Tool {
  const root = join(work, 'tsbuild-root');
  return {
    name: 'tsbuild',
    env: (kind) => ({ ...process.env, TSBUILD_ROOT: root, ...(kind === 'replayed' ? {} : { TSBUILD_REPLAY: 'off' }) }),
    reset(archives) {
      rmSync(root, { recursive: true, force: true });
      for (const a of archives) must(['node', cli, '--root', root, 'load', '-i', a]);
      // docker load and buildah pull unpack the layers before they return; tsbuild's load
      // leaves that to its detached extractor: wait for it, so that each cold build starts alike.
      waitForExtractions(root);
    },
    // As a user runs it: the bundle through its #! line.
    build: (dir, tag) => [cli, '--root', root, 'build', '-q', '-t', tag, dir],
    async stop() {},
  };
}

export function buildahTool(work: string): Tool | string {
  if (spawnSync('buildah', ['--version']).status !== 0) return 'Buildah left out: `buildah` is not installed (apt-get install -y buildah)';
  const args = ['--root', join(work, 'buildah-root'), '--runroot', join(work, 'buildah-runroot'), '--storage-driver', 'overlay'];
  return {
    name: 'buildah',
    env: () => process.env,
    reset(archives) {
      spawnSync('buildah', [...args, 'rmi', '--all', '--force'], { stdio: 'ignore' });
      // docker-archive: keeps the archive's RepoTags (busybox:latest, debian:latest).
      for (const a of archives) must(['buildah', ...args, 'pull', '--quiet', `docker-archive:${a}`]);
    },
    build: (dir, tag) => ['buildah', ...args, 'bud', '--layers', '--pull=never', '-q', '-t', tag, dir],
    async stop() {},
  };
}

/**
 * A private dockerd (Debian's docker.io 20.10): its own data root, exec root, socket and
 * containerd namespace under `work`, no iptables and no bridge (this sandbox has neither to
 * spare), so builds use `--network=host`: no NAT, which favours BuildKit against tsbuild's
 * slirp4netns. Debian's 20.10 client speaks BuildKit's session itself (DOCKER_BUILDKIT=1); the
 * 28.x client in /usr/local/bin wants the buildx plugin. Returns a note when dockerd won't start.
 */
export async function buildkitTool(work: string): Promise<Tool | string> {
  const client = '/usr/bin/docker';
  if (!existsSync('/usr/sbin/dockerd') && !existsSync('/usr/bin/dockerd')) return 'BuildKit left out: dockerd is not installed (apt-get install -y --no-install-recommends docker.io)';
  if (!existsSync(client)) return `BuildKit left out: ${client} (Debian's docker.io client) is missing`;
  const dir = join(work, 'dockerd');
  mkdirSync(dir, { recursive: true });
  const sock = join(dir, 'docker.sock');
  const pidfile = join(dir, 'docker.pid');
  const log = join(dir, 'dockerd.log');
  const { openSync, closeSync } = await import('node:fs');
  const fd = openSync(log, 'a');
  const child = spawn(
    'dockerd',
    ['--data-root', join(dir, 'root'), '--exec-root', join(dir, 'exec'), '-H', `unix://${sock}`, '--pidfile', pidfile,
      '--iptables=false', '--ip6tables=false', '--bridge=none', '--containerd-namespace', 'tsbuild-bench', '--containerd-plugins-namespace', 'tsbuild-bench-p'],
    { stdio: ['ignore', fd, fd], detached: true },
  );
  closeSync(fd);
  let exited = false;
  child.on('exit', () => (exited = true));
  const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_BUILDKIT: '1', DOCKER_CONFIG: join(dir, 'client-config') };
  const deadline = Date.now() + 60_000;
  while (spawnSync(client, ['info'], { env, stdio: 'ignore' }).status !== 0) {
    if (exited || Date.now() > deadline) {
      if (!exited) process.kill(child.pid!, 'SIGKILL');
      return `BuildKit left out: dockerd did not start (see its log: ${readFileSync(log, 'utf8').trim().split('\n').slice(-1)[0] ?? ''})`;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const pid = Number(readFileSync(pidfile, 'utf8'));
  const docker = (...a: string[]) => must([client, ...a], { env });
  return {
    name: 'buildkit',
    env: () => env,
    reset(archives) {
      docker('system', 'prune', '--all', '--force');
      docker('builder', 'prune', '--all', '--force');
      for (const a of archives) docker('load', '-q', '-i', a);
    },
    build: (dir, tag) => [client, 'build', '--network=host', '-q', '-t', tag, dir],
    daemonPeakMb() {
      // VmHWM of dockerd since the last reset ("5" to clear_refs resets it); its containerd is apart.
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      return m ? Number(m[1]) / 1024 : 0;
    },
    async stop() {
      process.kill(pid, 'SIGTERM');
      const until = Date.now() + 30_000;
      while (!exited && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
      if (!exited) process.kill(pid, 'SIGKILL');
    },
  };
}
