import { UserError, parsePlatformSpec } from '../../common/index.js';
import { parseArgs, stringOpt, usageError } from '../args.js';
import { inspectContainer } from '../container-inspect.js';
import { compile } from '../format-option.js';
import { volumeJson } from '../volume-inspect.js';
import type { Command } from '../command.js';

/**
 * `tsbuild inspect [--type image|container|volume] NAME...`: Docker's inspect JSON (an array,
 * 4-space indent) of images, containers and volumes; without --type an image by that name
 * wins, then a container, then a volume.
 */
export const command: Command = {
  name: 'inspect',
  usage: 'tsbuild inspect [--type image|container|volume] [-f TEMPLATE] [--platform OS/ARCH[/VARIANT]] NAME [NAME...]',
  summary: 'Show images\', containers\' or volumes\' configuration as JSON',
  async run(argv, ctx) {
    const args = parseArgs(argv, [
      { name: 'type', type: 'string' },
      { name: 'format', short: 'f', type: 'string' },
      { name: 'platform', type: 'string' },
    ]);
    // `--platform`: which child of a multi-platform image is shown (default the host's).
    const given = stringOpt(args, 'platform');
    const platform = given === undefined ? undefined : parsePlatformSpec(given);
    const format = stringOpt(args, 'format');
    // Docker's inspect runs the template over the JSON as decoded maps: a missing key is <no value>.
    const template = format === undefined || format === 'json' ? undefined : compile(format.replace(/\\t/g, '\t').replace(/\\n/g, '\n'), 'zero');
    if (args.positionals.length === 0) throw usageError('"inspect" requires at least 1 argument');
    const type = stringOpt(args, 'type');
    if (type !== undefined && type !== 'image' && type !== 'container' && type !== 'volume') throw usageError(`"${type}" is not a valid value for --type: want image, container or volume`);
    const { openStore, parseReference, familiarName, familiarRepository } = await import('../../store/index.js');
    const store = await openStore(ctx.root);
    const out: unknown[] = [];
    const missing: string[] = [];
    for (const ref of args.positionals) {
      const img = type === undefined || type === 'image' ? await store.resolveImage(ref, { platform }) : undefined;
      if (!img) {
        const container = type === undefined || type === 'container' ? await inspectContainer(store, ref) : undefined;
        const volume = !container && (type === undefined || type === 'volume') ? await store.volumes.get(ref) : undefined;
        if (container) out.push(container);
        else if (volume) out.push(volumeJson(volume));
        else missing.push(ref);
        continue;
      }
      const refs = img.names.map((n) => parseReference(n));
      const repos = [...new Set(refs.map((r) => familiarRepository(r)))];
      const c = img.config;
      out.push({
        Id: img.id,
        RepoTags: refs.map((r) => familiarName(r)),
        RepoDigests: repos.map((r) => `${r}@${img.manifestDigest}`),
        Parent: '',
        Comment: c.history?.[c.history.length - 1]?.comment ?? '',
        Created: c.created ?? '0001-01-01T00:00:00Z',
        DockerVersion: '',
        Author: c.author ?? '',
        Config: c.config ?? {},
        Architecture: c.architecture,
        ...(c.variant ? { Variant: c.variant } : {}),
        Os: c.os,
        Size: img.sizeBytes,
        RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
        Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
      });
    }
    if (template) ctx.stdout.write(out.map((o) => template.execute(JSON.parse(JSON.stringify(o))) + '\n').join(''));
    else ctx.stdout.write(JSON.stringify(out, null, 4) + '\n');
    if (missing.length > 0) {
      const what = type ?? 'object';
      throw new UserError(`${what}-not-found`, `No such ${what}: ${missing.join(', ')}`, { where: missing[0] });
    }
    return 0;
  },
};
