import { UserError } from '../../common/index.js';
import type { CliContext, Command } from '../command.js';
import { parseArgs, stringOpt, usageError, type OptionSpec } from '../args.js';

const options: OptionSpec[] = [
  { name: 'message', short: 'm', type: 'string' },
  { name: 'author', short: 'a', type: 'string' },
];

export const command: Command = {
  name: 'commit',
  usage: 'tsbuild commit [-m MESSAGE] [-a AUTHOR] CONTAINER [REPOSITORY[:TAG]]',
  summary: "Create a new image from a container's changes (works while it runs).",
  run: commit,
};

export const commitMessages = {
  'no-such-container': (ref: string) => `No such container: ${ref}`,
  'ambiguous-container': (ref: string) => `multiple containers found with provided prefix: ${ref}`,
  'image-gone': (id: string) => `the container's image ${id} is no longer in the store`,
} satisfies Record<string, (...args: never[]) => string>;

async function commit(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseArgs(argv, options);
  const [ref, target, ...extra] = args.positionals;
  if (ref === undefined || extra.length > 0) throw usageError('"commit" requires at least 1 and at most 2 arguments');
  const containers = await import('../../store/containers.js');
  const c = await containers.findContainer(ctx.root, ref).catch((e: unknown) => {
    if (e instanceof containers.AmbiguousContainerError)
      throw new UserError('ambiguous-container', commitMessages['ambiguous-container'](ref), { where: ref });
    throw e;
  });
  if (!c) throw new UserError('no-such-container', commitMessages['no-such-container'](ref), { where: ref });
  const { openStore, normaliseName } = await import('../../store/index.js');
  const names = target !== undefined ? [normaliseName(target)] : [];
  const store = await openStore(ctx.root);
  const image = await store.resolveImage(c.image.id);
  if (!image) throw new UserError('image-gone', commitMessages['image-gone'](c.image.id), { where: ref });
  // A running container keeps writing: the layer is the upper dir as the walk finds it
  // (Docker pauses the container first; without a freezer cgroup we do not).
  const { snapshotDir } = await import('../../executor/snapshot.js');
  const { tarLayerDescriptor } = await import('../../executor/layer-descriptor.js');
  const layer = await snapshotDir(store, containers.containerPaths(ctx.root, c.id).upperDir, { kind: 'overlay-upper' });
  const created = new Date().toISOString();
  const history = [
    ...(image.config.history ?? []),
    {
      created,
      created_by: c.command.join(' '),
      ...(stringOpt(args, 'author') ? { author: stringOpt(args, 'author') } : {}),
      ...(stringOpt(args, 'message') ? { comment: stringOpt(args, 'message') } : {}),
      ...(layer ? {} : { empty_layer: true }),
    },
  ];
  const config = {
    ...image.config,
    created,
    rootfs: { type: 'layers' as const, diff_ids: layer ? [...image.config.rootfs.diff_ids, layer.diffId] : image.config.rootfs.diff_ids },
    history,
  };
  const layers = layer ? [...image.manifest.layers, tarLayerDescriptor(layer)] : image.manifest.layers;
  const written = await store.writeImage({ config, layers, names });
  ctx.stdout.write(written.id + '\n');
  return 0;
}
