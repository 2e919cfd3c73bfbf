/**
 * What the sandbox costs: a trivial RUN step in the default sandbox (its own network
 * namespace with slirp4netns, seccomp, the device cgroup) against the same step on the host
 * network, and against an insecure step on the host network (no NAT, no seccomp: about what
 * a RUN was before the sandbox); and Debian + `apt-get install python3` through the NAT
 * against the same build on the host network. Alternating, medians.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../common/index.js';
import { context, median, timed } from './extras.js';

const ALLOW = ['--allow', 'network.host,security.insecure'];

/** Medians (ms) of --no-cache builds of `FROM busybox` + one line, by variant. */
export function sandboxRunCost(cli: string, root: string, work: string, runs: number): Record<string, number> {
  const variants: Record<string, string> = {
    env: 'ENV A=1',
    sandbox: 'RUN true',
    hostNetwork: 'RUN --network=host true',
    insecureHost: 'RUN --network=host --security=insecure true',
    sandbox5: 'RUN true\nRUN true\nRUN true\nRUN true\nRUN true',
    hostNetwork5: 'RUN --network=host true\nRUN --network=host true\nRUN --network=host true\nRUN --network=host true\nRUN --network=host true',
  };
  const dirs = Object.fromEntries(Object.entries(variants).map(([k, line]) => [k, context(work, `sandbox-${k}`, `FROM busybox\n${line}\n`)]));
  const build = (dir: string) => timed([cli, '--root', root, 'build', '-q', '--no-cache', ...ALLOW, dir]);
  build(dirs.sandbox); // the base layer is extracted once, outside the measurement
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) for (const k of Object.keys(variants)) samples[k].push(build(dirs[k]));
  return Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, median(xs)]));
}

/** Debian (fixtures/debian/make.sh) + apt-get install python3, cold, through the NAT and on the host network. */
export function aptThroughNat(cli: string, work: string, runs: number): { nat: number; host: number } {
  const seed = join(work, 'debian-seed');
  const made = spawnSync('bash', [join(projectRoot, 'fixtures', 'debian', 'make.sh')], { env: { ...process.env, TSBUILD_ROOT: seed }, encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`bench: fixtures/debian/make.sh failed:\n${made.stderr}`);
  const archive = join(work, 'debian.tar');
  timed(['node', cli, '--root', seed, 'save', '-o', archive, 'debian:latest']);
  const apt = 'RUN apt-get update && apt-get install -y --no-install-recommends python3\n';
  const nat = context(work, 'apt-nat', `FROM debian\n${apt}`);
  const host = context(work, 'apt-host', `FROM debian\n${apt.replace('RUN ', 'RUN --network=host ')}`);
  const once = (dir: string) => {
    const root = join(work, 'apt-root');
    spawnSync('rm', ['-rf', root]);
    timed(['node', cli, '--root', root, 'load', '-i', archive]);
    return timed([cli, '--root', root, 'build', '-q', '--no-cache', ...ALLOW, dir]);
  };
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(once(nat));
    b.push(once(host));
  }
  return { nat: median(a), host: median(b) };
}
