import { UserError } from '../../common/index.js';
import { parseArgs, usageError } from '../args.js';
import type { Command } from '../command.js';

/** `tsbuild inspect IMAGE...`: Docker's image inspect JSON (an array, 4-space indent). */
export const command: Command = {
  name: 'inspect',
  usage: 'tsbuild inspect IMAGE [IMAGE...]',
  summary: "Show images' configuration as JSON",
  async run(argv, ctx) {
    const args = parseArgs(argv, [{ name: 'type', type: 'string' }]);
    if (args.positionals.length === 0) throw usageError('"inspect" requires at least 1 argument');
    const { openStore, parseReference, familiarName, familiarRepository } = await import('../../store/index.js');
    const store = await openStore(ctx.root);
    const out: unknown[] = [];
    const missing: string[] = [];
    for (const ref of args.positionals) {
      const img = await store.resolveImage(ref);
      if (!img) {
        missing.push(ref);
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
    ctx.stdout.write(JSON.stringify(out, null, 4) + '\n');
    if (missing.length > 0) {
      throw new UserError('image-not-found', `No such image: ${missing.join(', ')}`, { where: missing[0] });
    }
    return 0;
  },
};
