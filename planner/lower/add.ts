import { UserError } from '../../common/index.js';
import type { Add } from '../../parser/index.js';
import type { RemoteSource } from '../../remote/index.js';
import { messages } from '../messages.js';
import type { CopyStep } from '../step.js';
import type { LowerArgs } from './lowering.js';
import { lowerTransfer } from './transfer.js';

/** `ADD`: COPY's lowering, plus archives unpacked, URLs and git repositories fetched (planner/lower/remote.ts). */
export function lowerAdd(ins: Add, a: LowerArgs): Promise<CopyStep> {
  return lowerTransfer(ins, a, (remotes) => checkAddRemoteFlags(ins, remotes));
}

/**
 * ADD's flags for remote sources: `--checksum` needs one URL or git source (BuildKit's
 * errors, dockerfile2llb/convert_copy.go); `--keep-git-dir` a git one (BuildKit ignores it
 * otherwise; tsbuild ignores no flag silently).
 */
function checkAddRemoteFlags(ins: Add, remotes: RemoteSource[] | undefined): void {
  if (ins.checksum !== undefined) {
    if (ins.sources.length + ins.heredocs.length !== 1) {
      throw new UserError('checksum-multiple-sources', messages['checksum-multiple-sources'](), { where: ins.range });
    }
    if (!remotes) {
      throw new UserError('checksum-needs-remote', messages['checksum-needs-remote'](), {
        where: ins.range,
        hint: 'a local file is verified by the build context itself; drop --checksum',
      });
    }
  }
  if (ins.keepGitDir && !remotes?.some((r) => r.kind === 'git')) {
    throw new UserError('keep-git-dir-needs-git', messages['keep-git-dir-needs-git'](), { where: ins.range });
  }
}
