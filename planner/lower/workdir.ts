import { posix } from 'node:path';
import type { Workdir } from '../../parser/index.js';
import { cacheKeyOf, type KeyParts } from '../cache-key.js';
import type { CopyStep } from '../step.js';
import type { LowerArgs } from './lowering.js';

/** `WORKDIR path`: a copy step that only makes the directory (BuildKit's mkdir), then sets WorkingDir. */
export function lowerWorkdir(ins: Workdir, a: LowerArgs): CopyStep {
  const path = posix.resolve(a.cursor.config.WorkingDir || '/', ins.path);
  const keyParts: KeyParts = { parent: a.cursor.key, op: 'workdir', path };
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
    excludes: [],
    parents: false,
    isAdd: false,
    unpack: false,
    link: false,
    mkdirOnly: true,
  };
}
