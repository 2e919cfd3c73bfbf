import { UserError } from '../../common/index.js';
import type { Add } from '../../parser/index.js';
import { messages } from '../messages.js';
import type { CopyStep } from '../step.js';
import type { LowerArgs } from './lowering.js';
import { lowerTransfer } from './transfer.js';

/** `ADD`: COPY's lowering, plus local archives unpacked and the flags of remote sources checked. */
export function lowerAdd(ins: Add, a: LowerArgs): Promise<CopyStep> {
  return lowerTransfer(ins, a, () => checkAddRemoteFlags(ins));
}

/**
 * ADD's flags for remote sources, which tsbuild cannot ADD yet (a URL or Git source is refused
 * by the executor): `--checksum` on local sources is BuildKit's error, `--keep-git-dir` ours.
 */
function checkAddRemoteFlags(ins: Add): void {
  if (ins.checksum !== undefined) {
    if (ins.sources.length + ins.heredocs.length !== 1) {
      throw new UserError('checksum-multiple-sources', messages['checksum-multiple-sources'](), { where: ins.range });
    }
    if (!/^(https?|git):\/\/|^git@/.test(ins.sources[0] ?? '')) {
      throw new UserError('checksum-needs-remote', messages['checksum-needs-remote'](), {
        where: ins.range,
        hint: 'a local file is verified by the build context itself; drop --checksum',
      });
    }
  }
  if (ins.keepGitDir) throw new UserError('keep-git-dir-unsupported', messages['keep-git-dir-unsupported'](), { where: ins.range });
}
