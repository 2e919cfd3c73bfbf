/**
 * Push and pull of the Debian + python3 image to a local registry (Debian's docker-registry on
 * 127.0.0.1, its storage emptied before each push and each pull's registry holding the image
 * once), tsbuild against the tools that do the same work:
 * - push: `tsbuild push` reads its store's uncompressed layers and gzips them on the way;
 *   `skopeo copy --dest-compress oci:LAYOUT docker://…` reads the same image as an uncompressed OCI layout (`tsbuild save --format oci --compression uncompressed`, unpacked untimed) and gzips
 *   the same layers (like with like); `podman push` re-tars its unpacked layers and gzips them.
 * - pull: `tsbuild pull` stores the layers and returns; its detached extractor then unpacks the
 *   big ones (the row "layers unpacked" times until it is done); `skopeo copy docker://… oci:DIR`
 *   stores the blobs as sent and unpacks nothing; `podman pull` unpacks every layer into its
 *   overlay store before it returns (the target is ≤ 0.5 of podman's time).
 * Every tool starts from an empty store or destination; the tools alternate in each run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { cli, must, waitForExtractions } from './peers.js';
import { measure, unmountUnder, type Sample } from './measure.js';

async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const addr = srv.address();
  srv.close();
  return typeof addr === 'object' && addr ? addr.port : 0;
}

class Registry {
  private child?: ChildProcess;
  constructor(private dir: string, readonly port: number) {}
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }
  /** A registry with empty storage. */
  async start(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    const config = join(this.dir, 'config.yml');
    writeFileSync(config, `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(this.dir, 'data')}\nhttp:\n  addr: ${this.host}\n`);
    const fd = openSync(join(this.dir, 'log'), 'a');
    this.child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    for (let i = 0; i < 150; i++) {
      if (spawnSync('curl', ['-sf', `http://${this.host}/v2/`]).status === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`bench: docker-registry did not answer on ${this.host} (see ${this.dir}/log)`);
  }
  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    const gone = once(c, 'exit');
    c.kill('SIGTERM');
    await gone;
  }
}

export interface PushPullRow {
  what: string;
  samples: Record<string, Sample[]>;
}

/**
 * `debianArchive`: the Debian fixture from `tsbuild save`. Builds debian + python3 once with
 * tsbuild (untimed), loads it into podman, then times `runs` pushes and pulls per tool.
 */
export async function pushPull(work: string, debianArchive: string, runs: number): Promise<PushPullRow[]> {
  if (spawnSync('podman', ['--version']).status !== 0) throw new Error('bench: podman is not installed (apt-get install -y podman; the bench only)');
  const root = join(work, 'pp-tsbuild');
  must(['node', cli, '--root', root, 'load', '-i', debianArchive]);
  const ctx = join(work, 'pp-ctx');
  mkdirSync(ctx, { recursive: true });
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends python3\n');
  must([cli, '--root', root, 'build', '-q', '-t', 'py:latest', ctx]);
  waitForExtractions(root); // nothing of tsbuild's runs beside the timed pushes
  const archive = join(work, 'py.tar');
  must(['node', cli, '--root', root, 'save', '-o', archive, 'py:latest']);
  // skopeo reads an OCI layout with every layer's tar: the store keeps a built layer as its
  // dir and tar-split, so give skopeo the same uncompressed layout, written untimed.
  const layout = join(work, 'pp-layout');
  rmSync(layout, { recursive: true, force: true });
  mkdirSync(layout, { recursive: true });
  const layoutTar = join(work, 'py-oci.tar');
  must(['node', cli, '--root', root, 'save', '--format', 'oci', '--compression', 'uncompressed', '-o', layoutTar, 'py:latest']);
  must(['tar', '-xf', layoutTar, '-C', layout]);
  const podmanArgs = (dir: string) => ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver', 'overlay'];
  const podmanStore = join(work, 'pp-podman');
  must(['podman', ...podmanArgs(podmanStore), 'load', '-q', '-i', archive]);

  const reg = new Registry(join(work, 'pp-registry'), await freePort());
  const ref = `${reg.host}/py:latest`;
  must(['node', cli, '--root', root, 'tag', 'py:latest', ref]);
  // `podman load` of a docker archive names it as the archive does: docker.io/library/py.
  must(['podman', ...podmanArgs(podmanStore), 'tag', 'docker.io/library/py:latest', ref]);
  const push: Record<string, () => Sample> = {
    // A first push: forget the compressed blobs the last push kept (store/compressed-layers.ts)
    // and where they went (registry/records.ts), so tsbuild compresses every layer again, as
    // skopeo does.
    tsbuild: () => {
      rmSync(join(root, 'compressed'), { recursive: true, force: true });
      rmSync(join(root, 'registry', 'compressed'), { recursive: true, force: true });
      return measure([cli, '--root', root, 'push', '-q', '--insecure-registry', reg.host, ref], work);
    },
    skopeo: () => measure(['skopeo', 'copy', '-q', '--dest-tls-verify=false', '--dest-compress', `oci:${layout}`, `docker://${ref}`], work),
    podman: () => measure(['podman', ...podmanArgs(podmanStore), 'push', '-q', '--tls-verify=false', ref], work),
  };
  const fresh = join(work, 'pp-fresh');
  const clearPodman = (dir: string) => {
    spawnSync('podman', [...podmanArgs(dir), 'rmi', '--all', '--force'], { stdio: 'ignore' });
    unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  const pull: Record<string, () => Sample> = {
    tsbuild: () => {
      const pulled = measure([cli, '--root', fresh, 'pull', '-q', '--insecure-registry', reg.host, ref], work);
      // Its detached extractor unpacks the layers after the pull returns: the time until they are on disk, as podman's pull leaves them.
      const t0 = process.hrtime.bigint();
      waitForExtractions(fresh);
      rows[2].samples.tsbuild.push({ wallMs: pulled.wallMs + Number(process.hrtime.bigint() - t0) / 1e6, rssKb: pulled.rssKb });
      return pulled;
    },
    skopeo: () => measure(['skopeo', 'copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${fresh}:py`], work),
    podman: () => measure(['podman', ...podmanArgs(fresh), 'pull', '-q', '--tls-verify=false', ref], work),
  };
  const rows: PushPullRow[] = [
    { what: 'push debian+python3', samples: { tsbuild: [], skopeo: [], podman: [] } },
    { what: 'pull debian+python3', samples: { tsbuild: [], skopeo: [], podman: [] } },
    { what: 'pull debian+python3, layers unpacked', samples: { tsbuild: [], skopeo: [], podman: [] } },
  ];
  try {
    for (let i = 0; i < runs; i++) {
      for (const name of Object.keys(push)) {
        await reg.start();
        rows[0].samples[name].push(push[name]());
      }
    }
    await reg.start();
    push.skopeo();
    for (let i = 0; i < runs; i++) {
      for (const name of Object.keys(pull)) {
        clearPodman(fresh);
        const sample = pull[name]();
        rows[1].samples[name].push(sample);
        if (name === 'podman') rows[2].samples.podman.push(sample); // skopeo unpacks nothing: no cell
      }
    }
  } finally {
    await reg.stop();
    clearPodman(fresh);
    clearPodman(podmanStore);
  }
  return rows;
}

