import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { digestOf, hexOf, projectRoot, type Digest } from '../../common/index.js';

/**
 * test/helpers/hostile-registry.py on 127.0.0.1: a small registry (pull, push, mounts) whose
 * repositories can misbehave (see the script). The test writes what it serves into `dir`.
 */

export type RegistryFault = 'endless-manifest' | 'drip-manifest' | 'drip-blob' | 'huge-length-blob' | 'overlong-blob';

export interface HostileRegistry {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** Add a blob to repository `repo`; returns its digest. */
  addBlob(repo: string, bytes: Buffer): Promise<Digest>;
  /** Serve `bytes` as manifest `tag` of `repo` (and by digest). */
  addManifest(repo: string, tag: string, bytes: Buffer): Promise<Digest>;
  setFault(repo: string, fault: RegistryFault): Promise<void>;
  /** Every request so far, in order. */
  requests(): Promise<{ method: string; path: string }[]>;
  stop(): Promise<void>;
}

export async function startHostileRegistry(dir: string): Promise<HostileRegistry> {
  await mkdir(join(dir, 'blobs'), { recursive: true });
  await mkdir(join(dir, 'repos'), { recursive: true });
  const child = spawn('python3', [join(projectRoot, 'test', 'helpers', 'hostile-registry.py'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([once(lines, 'line').then(([l]) => l as string), sleep(15_000).then(() => undefined)]);
  const port = /^listening (\d+)$/.exec(first ?? '')?.[1];
  if (!port) {
    child.kill('SIGKILL');
    throw new Error(`hostile-registry.py did not start (said ${JSON.stringify(first)})`);
  }
  const repoDir = async (repo: string) => {
    const d = join(dir, 'repos', repo);
    await mkdir(join(d, 'manifests'), { recursive: true });
    return d;
  };
  return {
    host: `127.0.0.1:${port}`,
    async addBlob(repo, bytes) {
      const digest = digestOf(bytes);
      await writeFile(join(dir, 'blobs', hexOf(digest)), bytes);
      await appendFile(join(await repoDir(repo), 'blobs'), `${hexOf(digest)}\n`);
      return digest;
    },
    async addManifest(repo, tag, bytes) {
      await writeFile(join(await repoDir(repo), 'manifests', tag), bytes);
      return digestOf(bytes);
    },
    async setFault(repo, fault) {
      await writeFile(join(await repoDir(repo), 'fault'), fault);
    },
    async requests() {
      const text = await readFile(join(dir, 'requests.log'), 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { method: string; path: string });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
