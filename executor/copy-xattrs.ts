import { UserError } from '../common/index.js';
import { getXattrs, type XattrMap } from '../store/index.js';

export type { XattrMap };

/**
 * Extended attributes of a tree (`security.capability`, overlay's `trusted.overlay.*`, …)
 * for COPY and snapshots: the xattrs of `path` and, with `recursive`, everything below it
 * (symlinks not followed), keyed by absolute path; entries without xattrs are absent. One
 * walk in the static helper, however many files.
 */
export async function readXattrs(path: string, opts: { recursive: boolean }): Promise<XattrMap> {
  try {
    return await getXattrs(path, opts);
  } catch (e) {
    throw new UserError('xattr-read', `read extended attributes: ${(e as Error).message}`, { where: path });
  }
}
