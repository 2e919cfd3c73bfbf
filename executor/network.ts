/**
 * The private network's NAT: slirp4netns (Debian's `slirp4netns` package), which the helper
 * starts for each `run` container, and once per build for its RUN steps (runtime-helper/network.c). Chosen over pasta because Debian 12's
 * slirp4netns has the two switches the sandbox needs and its lifetime is tied to an fd
 * (--disable-host-loopback, --exit-fd); missing, it is a clear error, never the host network.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Readable } from 'node:stream';
import { UserError, helperPath } from '../common/index.js';
import { parseReason, setupMessage } from './container-messages.js';
import type { RuntimeSettings } from './settings.js';

export const networkMessages = {
  'nat-missing': () => 'the private network needs slirp4netns, which is not installed',
} satisfies Record<string, (...args: never[]) => string>;

/** Docker's guest addresses on slirp4netns' default network (10.0.2.0/24). */
export const PRIVATE_NETWORK = { address: '10.0.2.100', dns: '10.0.2.3' } as const;

const found = new Map<string, string>();

/**
 * The slirp4netns program: the one the settings name, else the first on the search path or in
 * the usual system dirs (a PATH holding only node still finds it); missing, a UserError saying
 * what to install.
 */
export function natProgram(settings: Pick<RuntimeSettings, 'searchPath' | 'slirp4netns'>): string {
  const path = settings.searchPath;
  const key = `${settings.slirp4netns ?? ''}\0${path}`;
  const hit = found.get(key);
  if (hit) return hit;
  const dirs = settings.slirp4netns
    ? []
    : [...path.split(delimiter).filter((d) => d.startsWith('/')), '/usr/local/bin', '/usr/bin', '/usr/sbin', '/bin', '/sbin'];
  const candidates = settings.slirp4netns ? [settings.slirp4netns] : dirs.map((d) => join(d, 'slirp4netns'));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      found.set(key, candidate);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new UserError('nat-missing', networkMessages['nat-missing'](), {
    where: settings.slirp4netns ?? 'slirp4netns',
    hint: 'install it (Debian/Ubuntu: apt-get install slirp4netns), or use --network none',
  });
}

/** A build's private network: one namespace and NAT, made at the first RUN that needs it. */
export interface SharedNetwork {
  /** The namespace's path (`/proc/PID/ns/net`) for ContainerSpec.netns; starts it once. */
  netns(): Promise<string>;
  /** Ends it (idempotent); a dead tsbuild ends it too, as the holder's stdin closes. */
  close(): void;
}

export function sharedNetwork(settings: RuntimeSettings): SharedNetwork {
  let holder: ChildProcess | undefined;
  let ready: Promise<string> | undefined;
  return {
    netns() {
      ready ??= new Promise<string>((resolve, reject) => {
        const child = spawn(helperPath, ['--netns', natProgram(settings)], { stdio: ['pipe', 'pipe', 'pipe', 'ignore', 'pipe'] });
        holder = child;
        const said: Buffer[] = [];
        let out = '';
        child.on('error', reject);
        child.stdout!.on('data', (b: Buffer) => {
          out += b.toString();
          if (!out.includes('ready\n')) return;
          // From now on the holder keeps no one waiting: when tsbuild exits, its stdin closes and it ends.
          child.unref();
          for (const s of [child.stdin, child.stdout, child.stderr, child.stdio[4]]) (s as unknown as { unref?(): void })?.unref?.();
          resolve(`/proc/${child.pid}/ns/net`);
        });
        child.stderr!.on('data', (b: Buffer) => said.push(b));
        (child.stdio[4] as Readable).on('data', (b: Buffer) => said.push(b));
        child.on('exit', () => {
          const reason = parseReason(Buffer.concat(said).toString().trim().split('\n').pop() ?? '');
          reject(new UserError('network-setup', setupMessage({ ...reason, op: 'network' }), { where: 'slirp4netns' }));
        });
      });
      return ready;
    },
    close() {
      holder?.stdin?.end();
      holder = undefined;
    },
  };
}
