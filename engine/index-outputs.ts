import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError, formatPlatform, type Platform } from '../common/index.js';
import { DirPack, TarPack, writeImageArchive, writeTreesTar, type ImageRecord, type Store } from '../store/index.js';
import { exportCompression } from './compression.js';
import { directoryDest, fileDest, mtimeOf, toFileOrStream, withIo, writeLocal } from './output-write.js';
import type { BuildOutput } from './outputs.js';

/**
 * How the outputs of a multi-platform build are written, as BuildKit's exporters write a
 * result with one ref per platform: `local` puts each platform's files in a directory of its
 * own (`linux_amd64/`, `linux_arm64/`: exporter/local/export.go), or with
 * `platform-split=false` all in `dest`, refusing a file two platforms both have; `tar` is
 * the same directories in one archive (exporter/tar/export.go); `oci` is the image index
 * with every child; `docker` cannot hold an index (exporter/oci/export.go refuses it).
 */

/** One platform's final stage files: a read-only view, undefined for an image with no layers. */
export interface PlatformRoot {
  platform: Platform;
  rootfs: string | undefined;
}

/** The image of a multi-platform build: a child, with the index it belongs to. */
export type IndexedImage = ImageRecord & { index: NonNullable<ImageRecord['index']> };

/** An output of a multi-platform build: every platform's files at once, or the whole index. */
export type IndexExportWriter =
  | { kind: 'files'; display: string; write(roots: PlatformRoot[], sourceDateEpoch: number | undefined): Promise<void> }
  | { kind: 'index'; display: string; write(image: IndexedImage): Promise<void> };

export const indexOutputMessages = {
  'docker-manifest-list': (platforms: string) =>
    `docker exporter does not currently support exporting manifest lists (this build makes ${platforms}): use type=oci, or build one --platform`,
  'tar-platform-split': (value: boolean) =>
    `type=tar puts each platform in a directory of its own exactly when the build has several platforms (as BuildKit's tar exporter does): platform-split=${value} cannot change that; use type=local for it`,
  'platform-split-overlap': (path: string, first: string, second: string) => `cannot overwrite ${path} from ${first} with ${second} when split option is disabled`,
} satisfies Record<string, (...args: never[]) => string>;

/** BuildKit's directory for a platform's files: its normalised name with `/` as `_`. */
export function platformDirName(p: Platform): string {
  return formatPlatform(p).replaceAll('/', '_');
}

export interface IndexWriterContext {
  store: Store;
  cwd: string;
  cores: number;
  platforms: Platform[];
}

/** How output `x` of a multi-platform build is written, once its destination is checked. */
export async function indexWriterOf(x: Exclude<BuildOutput, { type: 'image' }>, names: string[], c: IndexWriterContext): Promise<IndexExportWriter> {
  switch (x.type) {
    case 'local': {
      const dest = await directoryDest(x.dest, x.type, c.cwd);
      const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
      const isSplit = x.platformSplit ?? true;
      return {
        kind: 'files',
        display: 'exporting to client directory',
        write: async (roots, epoch) => {
          if (!isSplit) await withIo(x.dest, () => refuseOverlaps(roots, x.dest));
          for (const r of roots) await writeLocal(r.rootfs, isSplit ? join(dest, platformDirName(r.platform)) : dest, x.dest, { owner, mtime: mtimeOf(epoch) });
        },
      };
    }
    case 'tar': {
      if (x.platformSplit === false) throw new UserError('usage', indexOutputMessages['tar-platform-split'](false), { exitCode: 2 });
      const dest = await fileDest(x.dest, x.type, c.cwd);
      return {
        kind: 'files',
        display: 'exporting to client tarball',
        write: (roots, epoch) =>
          toFileOrStream(dest, x.dest, (out) =>
            writeTreesTar(roots.map((r) => ({ name: platformDirName(r.platform), dir: r.rootfs })), out, { asRootfs: true, mtimeMs: epoch === undefined ? undefined : epoch * 1000 }),
          ),
      };
    }
    case 'oci': {
      const display = 'exporting to oci image format';
      const opts = { format: 'oci' as const, compression: exportCompression(x.compression, c.cores) };
      const entries = (image: IndexedImage) => [{ image, names, index: image.index }];
      if (x.tar === false) {
        const dest = await directoryDest(x.dest, x.type, c.cwd);
        return { kind: 'index', display, write: (image) => withIo(dest, () => writeImageArchive(c.store, entries(image), new DirPack(dest), opts)) };
      }
      const dest = await fileDest(x.dest, x.type, c.cwd);
      return { kind: 'index', display, write: (image) => toFileOrStream(dest, x.dest, (out) => writeImageArchive(c.store, entries(image), new TarPack(out), opts)) };
    }
    case 'docker':
      throw new UserError('usage', indexOutputMessages['docker-manifest-list'](c.platforms.map(formatPlatform).join(', ')), { exitCode: 2 });
    default:
      return unknownOutput(x);
  }
}

function unknownOutput(x: never): never {
  throw new UserError('usage', `unknown output type "${(x as { type: string }).type}"`, { exitCode: 2 });
}

/**
 * `platform-split=false`: every platform's files go to one directory, so a path that is not
 * a directory in two platforms is refused before anything is written (BuildKit checks the
 * same, and names the path and both platforms).
 */
async function refuseOverlaps(roots: PlatformRoot[], dest: string): Promise<void> {
  const seen = new Map<string, string>();
  for (const r of roots) {
    if (r.rootfs === undefined) continue;
    const platform = formatPlatform(r.platform);
    for (const path of await nonDirectories(r.rootfs)) {
      const first = seen.get(path);
      if (first !== undefined) throw new UserError('output-overlap', indexOutputMessages['platform-split-overlap'](path, first, platform), { where: dest });
      seen.set(path, platform);
    }
  }
}

/** Paths (relative, sorted) of every entry below `root` that is not a directory; overlay whiteouts are no files. */
async function nonDirectories(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(join(dir, e.name), path);
      else if (!(e.isCharacterDevice() && (await lstat(join(dir, e.name))).rdev === 0)) out.push(path);
    }
  };
  await walk(root, '');
  return out;
}
