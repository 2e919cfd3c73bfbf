import { mkdir, writeFile, symlink, chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** A file tree to create: path → content, { link } for a symlink, { dir: true }, or { mode, content }. */
export type Tree = Record<string, string | Buffer | { link: string } | { dir: true } | { content: string | Buffer; mode: number }>;

/** Create `tree` under `dir` (parents made as needed). */
export async function writeTree(dir: string, tree: Tree): Promise<void> {
  for (const [rel, v] of Object.entries(tree)) {
    const p = join(dir, rel);
    await mkdir(dirname(p), { recursive: true });
    if (rel.endsWith('/')) {
      await mkdir(p, { recursive: true });
    } else if (typeof v === 'string' || Buffer.isBuffer(v)) {
      await writeFile(p, v);
    } else if ('link' in v) {
      await symlink(v.link, p);
    } else if ('dir' in v) {
      await mkdir(p, { recursive: true });
    } else {
      await writeFile(p, v.content);
      await chmod(p, v.mode);
    }
  }
}
