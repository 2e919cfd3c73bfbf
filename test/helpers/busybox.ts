import { execFile } from 'node:child_process';
import { copyFile, mkdir, symlink, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../../cli/tsbuild.js';
import { tempDir } from './temp.js';

const exec = promisify(execFile);

/**
 * A busybox base image made from Debian's busybox-static (no Docker Hub here): a rootfs
 * tar with the static binary, its applet links, /etc/passwd and /etc/group, imported into
 * the store at `root` as `busybox:latest`.
 */
export async function makeBusybox(root: string, work: string): Promise<void> {
  const rootfs = join(work, 'busybox-rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'root', 'home', 'var', 'usr/bin', 'usr/sbin', 'sbin']) {
    await mkdir(join(rootfs, d), { recursive: true });
  }
  await chmod(join(rootfs, 'tmp'), 0o1777);
  await copyFile('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  await chmod(join(rootfs, 'bin', 'busybox'), 0o755);
  const { stdout } = await exec('/bin/busybox', ['--list']);
  for (const applet of stdout.split('\n').filter((a) => a && a !== 'busybox')) {
    await symlink('busybox', join(rootfs, 'bin', applet)).catch(() => {});
  }
  await writeFile(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  await writeFile(join(rootfs, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  const tar = join(work, 'busybox-rootfs.tar');
  await exec('tar', ['--numeric-owner', '--owner=0', '--group=0', '-cf', tar, '-C', rootfs, '.']);
  const r = await runCli(['import', tar, 'busybox:latest'], { root });
  if (r.code !== 0) throw new Error(`import busybox failed: ${r.stderr}`);
}

/** A fresh work dir and, inside it, a store root holding `busybox:latest`. */
export async function busyboxWork(prefix?: string): Promise<{ work: string; root: string }> {
  const work = await tempDir(prefix);
  const root = join(work, 'root');
  await makeBusybox(root, work);
  return { work, root };
}
