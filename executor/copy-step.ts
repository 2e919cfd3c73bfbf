import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CopyStep } from '../planner/index.js';
import type { Store, Descriptor } from '../store/index.js';
import { writeCopyLayer } from './copy.js';
import { tarLayerDescriptor } from './layer-descriptor.js';
import type { BuildLayerDirs } from './build-layers.js';
import { layerDirs, withRootfsView } from './rootfs-view.js';
import type { StageState } from './stage-state.js';
import { UserError, unreachable } from '../common/index.js';
import { literalPattern, type Matcher } from '../context/index.js';
import { materialiseRemote, type RemoteAccess, type RemoteSettings, type ResolvedRemote } from '../remote/index.js';

export interface CopyStepOptions {
  store: Store;
  contextDir: string | undefined;
  ignore?: Matcher;
  sourceDateEpoch?: number;
  stageResult(index: number): Promise<StageState>;
  /** The build's layer dirs: where this step reads its layers, and where its own goes. */
  layers: BuildLayerDirs;
  /** A later step will need this layer as a directory: extract it now, the fast way. */
  primeLayer: boolean;
  /** How ADD's URL and git sources are fetched (the build's `--ssh default` agent for ssh ones). */
  remote: RemoteSettings;
  remoteAccess: RemoteAccess;
}

/** The layers a COPY --from reads: another stage's result or an image's. */
async function sourceLayers(step: CopyStep, opts: CopyStepOptions): Promise<StageState | undefined> {
  switch (step.from.kind) {
    case 'context':
    case 'remote':
      return undefined;
    case 'stage':
      return opts.stageResult(step.from.stage);
    case 'image':
      return {
        layers: step.from.image.layers,
        config: step.from.image.config,
        history: [],
      };
    default:
      return unreachable(step.from);
  }
}

/** COPY/ADD (and WORKDIR's mkdir): a layer written straight from the sources, no container. */
export async function runCopyStep(step: CopyStep, state: StageState, opts: CopyStepOptions): Promise<Descriptor | undefined> {
  const { store } = opts;
  const destLowers = await layerDirs(opts.layers, state.layers, state.config.rootfs.diff_ids);
  const src = await sourceLayers(step, opts);
  const srcLowers = src ? await layerDirs(opts.layers, src.layers, src.config.rootfs.diff_ids) : [];
  if (step.from.kind === 'context' && opts.contextDir === undefined && step.sources.length > 0) {
    throw new UserError('no-context', `${step.isAdd ? 'ADD' : 'COPY'} needs a build context, but the Dockerfile was read from stdin`, {
      where: step.origin,
    });
  }
  // URL and git sources are fetched into a store temp dir, copied as context files are (owned 0:0).
  const fetched = step.from.kind === 'remote' ? await fetchRemotes(step.from.remotes, opts) : undefined;
  // A layer the next steps read as a directory is extracted into memory while it is written.
  const incoming = opts.primeLayer ? await opts.layers.receive() : undefined;
  let layer;
  try {
    layer = await withRootfsView(store, destLowers, (destRoot) =>
      withRootfsView(store, srcLowers, (srcRoot) =>
        writeCopyLayer(store, {
          sourceRoot: fetched?.dir ?? (step.from.kind === 'context' ? opts.contextDir ?? '/nonexistent' : srcRoot),
          fromContext: step.from.kind === 'context' || fetched !== undefined,
          ignore: step.from.kind === 'context' ? opts.ignore : undefined,
          ...(fetched ? { what: 'remote source' } : {}),
          sources: fetched?.sources ?? step.sources,
          inline: step.inline,
          dest: step.dest,
          workdir: step.workdir,
          chown: step.chown,
          chmod: step.chmod,
          excludes: step.excludes,
          parents: step.parents,
          isAdd: step.isAdd,
          unpack: step.unpack,
          link: step.link,
          mkdirOnly: step.mkdirOnly,
          destRoot,
          sourceDateEpoch: opts.sourceDateEpoch,
          where: step.origin,
          tee: incoming?.sink,
          selection: step.contextSelection,
        }),
      ),
    );
  } catch (e) {
    await incoming?.abandon();
    throw e;
  } finally {
    if (fetched) await rm(fetched.dir, { recursive: true, force: true });
  }
  if (opts.primeLayer) await opts.layers.prime(layer.diffId, incoming);
  return tarLayerDescriptor(layer);
}

/** Each remote source in its own numbered dir of one temp dir: the sources to copy, relative to it. */
async function fetchRemotes(remotes: ResolvedRemote[], opts: CopyStepOptions): Promise<{ dir: string; sources: string[] }> {
  const dir = await opts.store.makeTempDir('remote-');
  try {
    const sources: string[] = [];
    for (const [i, r] of remotes.entries()) {
      await mkdir(join(dir, String(i)));
      // A URL's file name is not a pattern: `a[1].txt` is that file, not a wildcard.
      sources.push(literalPattern(`${i}/${await materialiseRemote(opts.store, r, join(dir, String(i)), opts.remote, opts.remoteAccess)}`));
    }
    return { dir, sources };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
