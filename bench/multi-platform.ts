import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../common/index.js';
import { median } from './extras.js';
import { must as run } from './peers.js';
import { WORKLOAD2_STEPS } from './workloads.js';

/**
 * Workload 2 (busybox + 5 RUN) built for linux/amd64 and linux/arm64 in one command, the
 * arm64 RUNs under qemu-user (binfmt_misc): tsbuild `--platform a,b` against Buildah's
 * `bud --platform a,b --manifest`, alternating, cold (empty stores but the two bases) and
 * cached. The base is `busybox:$TARGETARCH` for both tools (made from Debian's
 * busybox-static of each architecture), so neither resolves an index.
 */

const ARM64_BUSYBOX = process.env.BENCH_ARM64_BUSYBOX ?? '/usr/local/lib/tsbuild-ci/arm64/busybox';
const LINES = ['ARG TARGETARCH', 'FROM localhost/busybox:${TARGETARCH}', ...WORKLOAD2_STEPS];

function must(argv: string[], env: NodeJS.ProcessEnv = process.env): string {
  return run(argv, { env });
}

function timed(argv: string[]): number {
  const t0 = process.hrtime.bigint();
  must(argv);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export interface MultiPlatformRow {
  scenario: 'cold' | 'cached';
  tsbuildMs: number[];
  buildahMs: number[];
}

/** `runs` alternating cold and cached builds of both tools; buildah must be installed. */
export function multiPlatformWorkload2(cli: string, work: string, runs: number): MultiPlatformRow[] {
  const dir = join(work, 'w2-multi');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), LINES.join('\n'));
  // The two bases, once, as OCI archives both tools load.
  const seed = join(work, 'multi-seed');
  const archives: Record<string, string> = {};
  for (const [arch, bin] of [['amd64', '/bin/busybox'], ['arm64', ARM64_BUSYBOX]]) {
    const name = `localhost/busybox:${arch}`;
    must(['sh', join(projectRoot, 'fixtures', 'busybox', 'make.sh'), name], { ...process.env, TSBUILD_ROOT: seed, BUSYBOX: bin, PLATFORM: `linux/${arch}` });
    archives[arch] = join(work, `busybox-${arch}.tar`);
    must(['node', cli, '--root', seed, 'save', '--format', 'oci', '-o', archives[arch], name]);
  }
  const root = join(work, 'multi-tsbuild');
  const bRoot = ['--root', join(work, 'multi-buildah'), '--runroot', join(work, 'multi-buildah-run'), '--storage-driver', 'overlay'];
  const resetTsbuild = () => {
    rmSync(root, { recursive: true, force: true });
    for (const a of Object.values(archives)) must(['node', cli, '--root', root, 'load', '-i', a]);
  };
  const resetBuildah = () => {
    spawnSync('buildah', [...bRoot, 'rmi', '--all', '--force'], { stdio: 'ignore' });
    spawnSync('buildah', [...bRoot, 'manifest', 'rm', 'bench-multi'], { stdio: 'ignore' });
    for (const [arch, a] of Object.entries(archives)) {
      const id = must(['buildah', ...bRoot, 'pull', '--quiet', `oci-archive:${a}`]).trim().split('\n').pop()!;
      must(['buildah', ...bRoot, 'tag', id, `localhost/busybox:${arch}`]);
    }
  };
  const platforms = 'linux/amd64,linux/arm64';
  const tsbuild = () => timed([cli, '--root', root, 'build', '-q', '--platform', platforms, '-t', 'bench-multi', dir]);
  const buildah = () => timed(['buildah', ...bRoot, 'bud', '--layers', '--pull=never', '-q', '--platform', platforms, '--manifest', 'bench-multi', dir]);
  const rows: MultiPlatformRow[] = [
    { scenario: 'cold', tsbuildMs: [], buildahMs: [] },
    { scenario: 'cached', tsbuildMs: [], buildahMs: [] },
  ];
  for (let i = 0; i < runs; i++) {
    resetTsbuild();
    rows[0].tsbuildMs.push(tsbuild());
    rows[1].tsbuildMs.push(tsbuild());
    resetBuildah();
    rows[0].buildahMs.push(buildah());
    spawnSync('buildah', [...bRoot, 'manifest', 'rm', 'bench-multi'], { stdio: 'ignore' });
    rows[1].buildahMs.push(buildah());
  }
  return rows;
}

export { median };
