import { execFile } from 'node:child_process';
import { access, chmod, copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../../cli/tsbuild.js';
import { makeBusybox } from './busybox.js';

const exec = promisify(execFile);

/** Where .ci/run unpacks Debian's busybox-static for arm64 (it cannot be installed beside the amd64 one). */
export const ARM64_BUSYBOX = process.env.TSBUILD_TEST_ARM64_BUSYBOX ?? '/usr/local/lib/tsbuild-ci/arm64/busybox';

/**
 * `name` (default `busybox:arm64`) in the store at `root`: Debian's arm64 busybox-static
 * with the amd64 busybox's applet links and the same /etc files, imported for linux/arm64.
 * A missing binary fails loudly: .ci/run puts it there.
 */
export async function makeArm64Busybox(root: string, work: string, name = 'busybox:arm64'): Promise<void> {
  await access(ARM64_BUSYBOX).catch(() => {
    throw new Error(`${ARM64_BUSYBOX} is missing: .ci/run unpacks Debian's busybox-static:arm64 there`);
  });
  const rootfs = join(work, 'busybox-arm64-rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'root']) await mkdir(join(rootfs, d), { recursive: true });
  await chmod(join(rootfs, 'tmp'), 0o1777);
  await copyFile(ARM64_BUSYBOX, join(rootfs, 'bin', 'busybox'));
  await chmod(join(rootfs, 'bin', 'busybox'), 0o755);
  // The applet list of the amd64 build of the same Debian package (listing the arm64 one would need emulation).
  const { stdout } = await exec('/bin/busybox', ['--list']);
  for (const applet of stdout.split('\n').filter((a) => a && a !== 'busybox')) await symlink('busybox', join(rootfs, 'bin', applet)).catch(() => {});
  await writeFile(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  await writeFile(join(rootfs, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  const tar = join(work, 'busybox-arm64-rootfs.tar');
  await exec('tar', ['--numeric-owner', '--owner=0', '--group=0', '--sort=name', '--mtime=@0', '-cf', tar, '-C', rootfs, '.']);
  const r = await runCli(['import', '--platform', 'linux/arm64', tar, name], { root });
  if (r.code !== 0) throw new Error(`import arm64 busybox failed: ${r.stderr}`);
}

/**
 * The two bases of the multi-platform tests in the store at `root`: `busybox:amd64` (also
 * `busybox:latest`) and `busybox:arm64`, so `FROM busybox:${TARGETARCH}` finds each.
 */
export async function makeTwoArchBusybox(root: string, work: string): Promise<void> {
  await makeBusybox(root, work);
  await makeArm64Busybox(root, work);
  const tag = await runCli(['tag', 'busybox:latest', 'busybox:amd64'], { root });
  if (tag.code !== 0) throw new Error(`tag busybox:amd64: ${tag.stderr}`);
}
