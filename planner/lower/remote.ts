import { UserError } from '../../common/index.js';
import type { Add, Copy } from '../../parser/index.js';
import { parseRemoteSource, remoteKeyOf, type RemoteSource } from '../../remote/index.js';
import { messages } from '../messages.js';
import type { CopyStep } from '../step.js';
import type { LowerArgs } from './lowering.js';

/**
 * The URL and git sources of a COPY/ADD (undefined: none). BuildKit refuses them for COPY
 * (dockerfile2llb/convert_copy.go); an ADD that mixes them with context files, inline files,
 * `--from` or `--exclude` is not supported yet.
 */
export function remoteSourcesOf(ins: Copy | Add): RemoteSource[] | undefined {
  const parsed = ins.sources.map((s) => parseRemoteSource(s));
  const remotes = parsed.filter((r): r is RemoteSource => r !== undefined);
  if (remotes.length === 0) return undefined;
  const where = ins.range;
  if (ins.kind === 'copy') {
    const code = remotes[0].kind === 'git' ? 'copy-git' : 'copy-url';
    throw new UserError(code, messages[code](ins.sources[parsed.indexOf(remotes[0])]), { where, hint: 'use ADD to fetch it' });
  }
  const unsupported = (what: string) => new UserError('add-remote-unsupported', messages['add-remote-unsupported'](what), { where });
  if (remotes.length !== parsed.length || ins.heredocs.length > 0) throw unsupported('URL or git sources mixed with local ones in one ADD');
  if (ins.from !== undefined) throw unsupported('ADD --from with URL or git sources');
  if (ins.exclude.length > 0) throw unsupported('ADD --exclude with URL or git sources');
  return remotes;
}

/** Each source resolved (content digest, commit): the key's content; the executor fetches only on a miss. */
export async function lowerRemoteSources(
  remotes: RemoteSource[],
  ins: Add,
  a: LowerArgs,
): Promise<{ from: Extract<CopyStep['from'], { kind: 'remote' }>; content: unknown }> {
  const resolved = [];
  for (const r of remotes) resolved.push(await a.lc.opts.resolveRemote(r, { checksum: ins.checksum, keepGitDir: ins.keepGitDir }));
  return { from: { kind: 'remote', remotes: resolved }, content: { remote: resolved.map(remoteKeyOf) } };
}
