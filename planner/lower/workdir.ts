import { posix } from 'node:path';
import type { Workdir } from '../../parser/index.js';
import { cacheKeyOf, type KeyParts } from '../cache-key.js';
import type { CopyStep } from '../step.js';
import type { LowerArgs } from './lowering.js';

/**
 * `WORKDIR path`: a copy step that only makes the directory (BuildKit's mkdir), then sets
 * WorkingDir. Missing dirs are owned by the current USER (dispatchWorkdir's llb.WithUser).
 */
export function lowerWorkdir(ins: Workdir, a: LowerArgs): CopyStep {
  const path = posix.resolve(a.cursor.config.WorkingDir || '/', ins.path);
  const user = a.cursor.config.User || undefined;
  // The user only when there is one, so that keys of WORKDIR as root stay as they were.
  const keyParts: KeyParts = { parent: a.cursor.key, op: 'workdir', path, ...(user ? { user } : {}) };
  return {
    op: 'copy',
    index: 0,
    display: `${a.label()} WORKDIR ${path}`,
    createdBy: `WORKDIR ${path}`,
    cacheKey: cacheKeyOf(keyParts),
    keyParts,
    origin: ins.range,
    edits: [{ field: 'WorkingDir', value: path }],
    from: { kind: 'context' },
    sources: [],
    inline: [],
    dest: path,
    workdir: '/',
    chown: user,
    excludes: [],
    parents: false,
    isAdd: false,
    unpack: false,
    link: false,
    mkdirOnly: true,
  };
}
