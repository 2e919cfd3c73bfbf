import { UserError, shortId } from '../../common/index.js';
import { boolOpt, parseArgs, stringOpt, usageError } from '../args.js';
import type { Command } from '../command.js';
import { createdSince, humanSize } from '../format.js';
import { goTime, renderRows } from '../format-option.js';

/** docker/cli formatter/history.go: the fields of a row and their titles. */
const HEADERS = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };
const DEFAULT_TABLE = '{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';

/** Docker's stringutils.Ellipsis: at most `max` characters, the last one "…" when cut. */
function ellipsis(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max - 1).join('') + '…';
}

/**
 * `tsbuild history IMAGE`: newest step first; the top row carries the image id, the rest
 * `<missing>` (as Docker shows for steps that are not images of their own); SIZE is the
 * content size of the layer the step made, 0B for metadata-only steps.
 */
export const command: Command = {
  name: 'history',
  usage: 'tsbuild history [--no-trunc] [-q] [--format TEMPLATE] IMAGE',
  summary: 'Show the history of an image',
  async run(argv, ctx) {
    const args = parseArgs(argv, [
      { name: 'no-trunc', type: 'boolean' },
      { name: 'quiet', short: 'q', type: 'boolean' },
      { name: 'human', short: 'H', type: 'boolean' },
      { name: 'format', type: 'string' },
    ]);
    if (args.positionals.length !== 1) throw usageError('"history" requires exactly 1 argument');
    const ref = args.positionals[0];
    const { openStore } = await import('../../store/index.js');
    const store = await openStore(ctx.root);
    const img = await store.resolveImage(ref);
    if (!img) throw new UserError('image-not-found', `No such image: ${ref}`, { where: ref });
    const noTrunc = boolOpt(args, 'no-trunc');
    const history = img.config.history ?? [];
    const layers = img.manifest.layers;
    let layer = 0;
    const rows: Record<keyof typeof HEADERS, string>[] = [];
    for (const h of history) {
      let size = 0;
      if (!h.empty_layer && layer < layers.length) size = await store.layerContentSize(layers[layer++]);
      const createdBy = (h.created_by ?? '').replace(/\t/g, ' ').replace(/\n/g, ' ');
      rows.push({
        ID: '<missing>',
        CreatedSince: createdSince(h.created),
        CreatedAt: goTime(h.created),
        CreatedBy: noTrunc ? createdBy : ellipsis(createdBy, 45),
        Size: humanSize(size),
        Comment: h.comment ?? '',
      });
    }
    rows.reverse();
    if (rows.length > 0) rows[0].ID = noTrunc ? img.id : shortId(img.id);
    if (boolOpt(args, 'quiet')) {
      for (const r of rows) ctx.stdout.write(r.ID + '\n');
      return 0;
    }
    ctx.stdout.write(renderRows(stringOpt(args, 'format'), rows, { defaultTable: DEFAULT_TABLE, headers: HEADERS }));
    return 0;
  },
};
