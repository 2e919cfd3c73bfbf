import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

/** A host loop device over `backing`, a 1 MiB file starting with `secret`: what `mknod b 7 N` would reach. */
export function makeLoopDevice(backing: string, secret: string): { path: string; minor: number; detach(): void } {
  writeFileSync(backing, secret.padEnd(1 << 20, '.'));
  const path = execFileSync('losetup', ['-f', '--show', backing], { encoding: 'utf8' }).trim();
  return { path, minor: Number(/loop(\d+)$/.exec(path)![1]), detach: () => execFileSync('losetup', ['-d', path]) };
}
