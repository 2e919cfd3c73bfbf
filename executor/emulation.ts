import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError, bestPlatformMatch, formatPlatform, hostPlatform, type Platform } from '../common/index.js';

/**
 * Whether a RUN for `platform` can run here: natively (the host's platform or one it runs,
 * containerd's vector: amd64 runs 386), or under QEMU user emulation through a binfmt_misc
 * handler registered with the F (fix-binary) flag — the kernel opened the interpreter at
 * registration, so it runs inside the container's root, where no qemu binary is. Without
 * one the step fails: a foreign binary is never run on the wrong CPU silently.
 */

/** qemu's name for an OCI architecture (qemu-user-static's /usr/share/binfmts/qemu-*). */
const QEMU_ARCH: Record<string, string> = {
  arm64: 'aarch64',
  arm: 'arm',
  '386': 'i386',
  amd64: 'x86_64',
  ppc64le: 'ppc64le',
  ppc64: 'ppc64',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips64le: 'mips64el',
  mips64: 'mips64',
  loong64: 'loongarch64',
};

export const DEFAULT_BINFMT_DIR = '/proc/sys/fs/binfmt_misc';

export const emulationMessages = {
  'emulation-missing': (what: string, platform: string, handler: string, dir: string, why: string) =>
    `${what} for ${platform} needs QEMU user emulation, but ${why} (${join(dir, handler)}): install qemu-user-static ` +
    `(apt-get install qemu-user-static binfmt-support); where binfmt_misc is not mounted: ` +
    `mount -t binfmt_misc binfmt_misc ${dir} && update-binfmts --enable`,
} satisfies Record<string, (...args: never[]) => string>;

/** Undefined when `platform` runs natively; else the interpreter of its registered handler. Throws when there is none. */
export async function emulatorFor(platform: Platform, binfmtDir = DEFAULT_BINFMT_DIR, what = 'RUN'): Promise<string | undefined> {
  const host = hostPlatform();
  if (bestPlatformMatch([platform], host, (p) => p) !== undefined) return undefined;
  const name = QEMU_ARCH[platform.architecture] ?? platform.architecture;
  const handler = `qemu-${name}`;
  const fail = (why: string) =>
    new UserError('emulation-missing', emulationMessages['emulation-missing'](what, formatPlatform(platform), handler, binfmtDir, why), { where: formatPlatform(platform), exitCode: what === 'RUN' ? 1 : 125 });
  let text: string;
  try {
    text = await readFile(join(binfmtDir, handler), 'utf8');
  } catch {
    throw fail(`no binfmt_misc handler ${handler} is registered`);
  }
  const lines = text.split('\n');
  if (lines[0] !== 'enabled') throw fail(`the binfmt_misc handler ${handler} is disabled`);
  const flags = lines.find((l) => l.startsWith('flags:'))?.slice(6).trim() ?? '';
  if (!flags.includes('F')) throw fail(`the binfmt_misc handler ${handler} lacks the F (fix-binary) flag`);
  return lines.find((l) => l.startsWith('interpreter '))?.slice(12).trim() ?? handler;
}
