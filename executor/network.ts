/**
 * The private network's NAT: slirp4netns (Debian's `slirp4netns` package), which the helper
 * starts for each container (runtime-helper/network.c). Chosen over pasta because Debian 12's
 * slirp4netns has the two switches the sandbox needs and its lifetime is tied to an fd
 * (--disable-host-loopback, --exit-fd); missing, it is a clear error, never the host network.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UserError } from '../common/index.js';

export const networkMessages = {
  'nat-missing': () => 'the private network needs slirp4netns, which is not installed',
} satisfies Record<string, (...args: never[]) => string>;

/** Docker's guest addresses on slirp4netns' default network (10.0.2.0/24). */
export const PRIVATE_NETWORK = { address: '10.0.2.100', dns: '10.0.2.3' } as const;

const found = new Map<string, string>();

/**
 * The slirp4netns program: `TSBUILD_SLIRP4NETNS` when set, else the first on `PATH` or in the
 * usual system dirs (a PATH holding only node still finds it); missing, a UserError saying
 * what to install.
 */
export function natProgram(env: NodeJS.ProcessEnv = process.env): string {
  const path = env.PATH ?? '';
  const key = `${env.TSBUILD_SLIRP4NETNS ?? ''}\0${path}`;
  const hit = found.get(key);
  if (hit) return hit;
  const dirs = env.TSBUILD_SLIRP4NETNS
    ? []
    : [...path.split(delimiter).filter((d) => d.startsWith('/')), '/usr/bin', '/usr/sbin', '/bin', '/sbin'];
  const candidates = env.TSBUILD_SLIRP4NETNS ? [env.TSBUILD_SLIRP4NETNS] : dirs.map((d) => join(d, 'slirp4netns'));
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
    where: env.TSBUILD_SLIRP4NETNS ?? 'slirp4netns',
    hint: 'install it (Debian/Ubuntu: apt-get install slirp4netns), or use --network none',
  });
}
