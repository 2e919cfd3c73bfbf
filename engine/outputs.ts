import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { UserError, formatPlatform, type Platform } from '../common/index.js';
import type { ExportWriter } from '../executor/index.js';
import { DirPack, TarPack, normaliseName, writeImageArchive, type ExportCompression, type Store } from '../store/index.js';
import { exportCompression, type CompressionOption } from './compression.js';
import { indexWriterOf, platformDirName, indexOutputMessages, type IndexExportWriter, type IndexWriterContext } from './index-outputs.js';
import { destMessages, directoryDest, fileDest, mtimeOf, toFileOrStream, withIo, writeLocal, writeRootfsTar } from './output-write.js';

/**
 * What a build writes (`--output`, BuildKit's exporters): the image in the store (the
 * default; `push` sends it on), the final stage's files as a directory or a tar, or the
 * image as an OCI or docker archive (a directory with `tar: false`). A stream `dest` is
 * ended when written (`-o -`: stdout).
 */
export type BuildOutput =
  | { type: 'image'; names?: string[]; push?: boolean; compression?: CompressionOption }
  /** `platformSplit`: each platform's files in a directory of its own (default: when the build has several). */
  | { type: 'local'; dest: string; platformSplit?: boolean }
  | { type: 'tar'; dest: string | Writable; platformSplit?: boolean }
  | { type: 'oci'; dest: string | Writable; tar?: boolean; names?: string[]; compression?: CompressionOption }
  | { type: 'docker'; dest: string | Writable; tar?: boolean; names?: string[] };

/** `--annotation [type:]key=value` (buildx): where in the image it goes; `manifest` when no type is given. */
export interface Annotation {
  type?: AnnotationType;
  /** `manifest[linux/amd64]:…`: only for that platform's image. */
  platform?: string;
  key: string;
  value: string;
}
export const ANNOTATION_TYPES = ['manifest', 'manifest-descriptor', 'index', 'index-descriptor'] as const;
export type AnnotationType = (typeof ANNOTATION_TYPES)[number];

export const outputMessages = {
  ...destMessages,
  'index-annotation': () => 'index annotations not supported for single platform export',
  'annotation-platform': (p: string, built: string) => `invalid annotation: no platform ${p} found in source (this build makes ${built})`,
  'annotation-unused': () => '--annotation applies to image, oci and docker outputs, and this build has none',
  'annotation-multi-platform': (kind: string) =>
    `--annotation ${kind}:… is not supported yet for a multi-platform build (a plain manifest annotation goes on every platform's manifest)`,
  'push-needs-name': (via: string) => `${via} needs a name to push to (-t HOST/NAME:TAG${via === '--push' ? '' : ', or name= of the output'})`,
} satisfies Record<string, (...args: never[]) => string>;

/** The outputs resolved against the build: what the executor is asked to do with the image. */
export interface OutputPlan {
  /** Names the image gets in the store; `isIndexed` false when no output is the store. */
  names: string[];
  isIndexed: boolean;
  /** Names to push once written, and how each push compresses layers. */
  push: { name: string; compression: ExportCompression }[];
  manifestAnnotations: Record<string, string>;
  /** The other outputs of a one-platform build (the executor writes them)… */
  exports: ExportWriter[];
  /** …or of a multi-platform one (written once every platform is built: engine/multi-platform.ts). */
  indexExports: IndexExportWriter[];
}

/**
 * Check the outputs before anything is built (a wrong dest fails at once, as buildx does)
 * and say how each is written. Without outputs the image goes to the store, as `docker build`.
 */
export async function planOutputs(
  given: BuildOutput[] | undefined,
  o: { store: Store; tags: string[]; push: boolean; annotations: Annotation[]; cwd: string; platforms: Platform[]; cores: number },
): Promise<OutputPlan> {
  const outputs: BuildOutput[] = given && given.length ? given.map((x) => ({ ...x })) : [{ type: 'image' }];
  // `--push` pushes the image outputs, or adds one (buildx commands/build.go).
  if (o.push) {
    const images = outputs.filter((x): x is Extract<BuildOutput, { type: 'image' }> => x.type === 'image');
    if (images.length) for (const x of images) x.push = true;
    else outputs.push({ type: 'image', push: true });
  }
  const annotations = splitAnnotations(o.annotations, o.platforms);
  if (o.annotations.length && !outputs.some((x) => x.type === 'image' || x.type === 'oci' || x.type === 'docker')) {
    throw new UserError('usage', outputMessages['annotation-unused'](), { exitCode: 2 });
  }
  const plan: OutputPlan = { names: [], isIndexed: false, push: [], manifestAnnotations: annotations.manifest, exports: [], indexExports: [] };
  const ctx: WriterContext = { store: o.store, cwd: o.cwd, descriptorAnnotations: annotations.descriptor, cores: o.cores, platforms: o.platforms };
  for (const x of outputs) {
    // buildx gives the tags to every image-like output as its name (build/opt.go).
    const names = (o.tags.length ? o.tags : ('names' in x ? x.names : undefined) ?? []).map((n) => normaliseName(n));
    if (x.type !== 'image') {
      if (o.platforms.length > 1) plan.indexExports.push(await indexWriterOf(x, names, ctx));
      else plan.exports.push(await writerOf(x, names, ctx));
      continue;
    }
    plan.isIndexed = true;
    for (const n of names) if (!plan.names.includes(n)) plan.names.push(n);
    if (x.push) {
      if (names.length === 0) throw new UserError('usage', outputMessages['push-needs-name'](o.push && !given?.length ? '--push' : 'an output with push=true'), { exitCode: 2 });
      const compression = exportCompression(x.compression, o.cores);
      for (const name of names) if (!plan.push.some((p) => p.name === name)) plan.push.push({ name, compression });
    }
  }
  return plan;
}

interface WriterContext extends IndexWriterContext {
  descriptorAnnotations: Record<string, string>;
}

/** How an output other than the store is written, once its destination is checked. */
async function writerOf(x: Exclude<BuildOutput, { type: 'image' }>, names: string[], c: WriterContext): Promise<ExportWriter> {
  switch (x.type) {
    case 'local': {
      const dest = await directoryDest(x.dest, x.type, c.cwd);
      // BuildKit's local exporter: the caller owns what it receives (session/filesync/diffcopy.go).
      const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
      // platform-split=true splits one platform too (BuildKit: UsePlatformSplit is the option when given).
      const into = x.platformSplit === true ? join(dest, platformDirName(c.platforms[0])) : dest;
      return { kind: 'files', display: 'exporting to client directory', write: (rootfs, epoch) => writeLocal(rootfs, into, x.dest, { owner, mtime: mtimeOf(epoch) }) };
    }
    case 'tar': {
      if (x.platformSplit === true) throw new UserError('usage', indexOutputMessages['tar-platform-split'](true), { exitCode: 2 });
      const dest = await fileDest(x.dest, x.type, c.cwd);
      return { kind: 'files', display: 'exporting to client tarball', write: (rootfs, epoch) => toFileOrStream(dest, x.dest, (out) => writeRootfsTar(rootfs, out, mtimeOf(epoch))) };
    }
    case 'oci':
    case 'docker': {
      const display = `exporting to ${x.type} image format`;
      const compression = x.type === 'oci' ? exportCompression(x.compression, c.cores) : undefined;
      const opts = { format: x.type, descriptorAnnotations: c.descriptorAnnotations, ...(compression ? { compression } : {}) };
      if (x.tar === false) {
        const dest = await directoryDest(x.dest, x.type, c.cwd);
        return { kind: 'image', display, write: (image) => withIo(dest, () => writeImageArchive(c.store, [{ image, names }], new DirPack(dest), opts)) };
      }
      const dest = await fileDest(x.dest, x.type, c.cwd);
      return { kind: 'image', display, write: (image) => toFileOrStream(dest, x.dest, (out) => writeImageArchive(c.store, [{ image, names }], new TarPack(out), opts)) };
    }
    default:
      return unknownOutput(x);
  }
}

function unknownOutput(x: never): never {
  throw new UserError('usage', `unknown output type "${(x as { type: string }).type}"`, { exitCode: 2 });
}

/**
 * Manifest and descriptor annotations; the index kinds need an index, which a single-platform
 * image has not. A multi-platform build takes plain manifest annotations (every platform's
 * manifest gets them) and, for now, no other kind.
 */
function splitAnnotations(list: Annotation[], platforms: Platform[]): { manifest: Record<string, string>; descriptor: Record<string, string> } {
  const out = { manifest: {} as Record<string, string>, descriptor: {} as Record<string, string> };
  const platform = formatPlatform(platforms[0]);
  for (const a of list) {
    const type = a.type ?? 'manifest';
    if (platforms.length > 1 && (type !== 'manifest' || a.platform !== undefined)) {
      throw new UserError('usage', outputMessages['annotation-multi-platform'](`${type}${a.platform ? `[${a.platform}]` : ''}`), { exitCode: 2 });
    }
    // exporter/containerimage/writer.go: "index annotations not supported for single platform export".
    if (type === 'index' || type === 'index-descriptor') throw new UserError('usage', outputMessages['index-annotation'](), { exitCode: 2 });
    if (a.platform !== undefined && a.platform !== platform) throw new UserError('usage', outputMessages['annotation-platform'](a.platform, platform), { exitCode: 2 });
    (type === 'manifest' ? out.manifest : out.descriptor)[a.key] = a.value;
  }
  return out;
}
