import { UserError } from '../../common/index.js';
import { expandHeredocBody, type Add, type Copy } from '../../parser/index.js';
import { cacheKeyOf, type KeyParts } from '../cache-key.js';
import { parseChmod, type ContentHasher, type SourceSelection } from '../../context/index.js';
import { namedContextOf } from '../named-context.js';
import { checkNearStage, stageReference } from '../stages.js';
import type { CopyStep } from '../step.js';
import { lastKey, type LowerArgs } from './lowering.js';
import { lowerRemoteSources, remoteSourcesOf } from './remote.js';
import type { RemoteSource } from '../../remote/index.js';

/**
 * `COPY`/`ADD`: where sources come from, what they hold (content digest), and the key.
 * `checkFlags` validates what only one of them accepts (given the remote sources, if any),
 * after the source is resolved and before anything is fetched.
 */
export async function lowerTransfer(
  ins: Copy | Add,
  a: LowerArgs,
  checkFlags: (remotes: RemoteSource[] | undefined) => void,
  preset?: { from: Extract<CopyStep['from'], { kind: 'context' }>; hash: ContentHasher },
): Promise<CopyStep> {
  const { cursor } = a;
  const remotes = remoteSourcesOf(ins);
  const opts = a.lc.opts;
  const kw = ins.kind === 'add' ? 'ADD' : 'COPY';
  let from: CopyStep['from'] = preset?.from ?? { kind: 'context' };
  let hash = preset?.hash ?? opts.hashContext;
  let content: unknown;
  if (ins.from !== undefined && !preset) {
    // A stage first, then a named context, then an image (dockerfile2llb/convert.go).
    const ref = stageReference(a.split, ins.from, a.raw.index, { allowIndex: true, where: ins.range });
    const named = ref === undefined ? await namedContextOf(opts.namedContext, ins.from, ins.range) : undefined;
    if (ref !== undefined) {
      const source = await a.lc.planStage(ref);
      a.dependsOn.push(ref);
      from = { kind: 'stage', stage: ref };
      content = { stage: lastKey(source) };
    } else if (named?.kind === 'dir') {
      from = { kind: 'context', name: named.name };
      hash = named.hash;
    } else {
      if (!named) checkNearStage(a.split, ins.from, ins.range);
      const image = named?.image ?? (await opts.resolveImage(ins.from, ins.range, a.platform));
      from = { kind: 'image', image };
      content = { image: image.manifestDigest };
    }
  }
  if (ins.chmod !== undefined) parseChmod(ins.chmod);
  checkFlags(remotes);
  // Chomped, then expanded when the name is unquoted (BuildKit: parse.go, then ExpandRaw).
  const inline = ins.heredocs.map((h) => {
    const chomped = h.chomp ? h.content.replace(/^\t+/gm, '') : h.content;
    return { name: h.name, content: h.expand ? expandHeredocBody(chomped, a.scope.expansionEnv()) : chomped };
  });
  const sources = ins.sources;
  let files: Record<string, string> | undefined;
  let contextSelection: SourceSelection | undefined;
  let missingSource: UserError | undefined;
  if (remotes && ins.kind === 'add') {
    ({ from, content } = await lowerRemoteSources(remotes, ins, a));
  } else if (from.kind === 'context' && sources.length > 0) {
    try {
      const hashed = await hash(sources, { excludes: ins.exclude, where: ins.range, what: kw });
      content = hashed.digest;
      files = hashed.files;
      // What was hashed is what gets copied (one walk of the context, not two). --parents
      // selects differently: the executor walks again for it.
      if (!ins.parents) contextSelection = hashed.selection;
    } catch (e) {
      if (!(opts.deferMissingSources && e instanceof UserError && e.code === 'copy-source-missing')) throw e;
      missingSource = e;
      content = { missing: e.message }; // never stored: the step fails
    }
  }
  if (inline.length) content = { ...(content as object), inline };
  // What the executor gets is also what the key is made of (plus the parent and the content).
  const fields = {
    sources,
    dest: ins.dest,
    workdir: cursor.config.WorkingDir || '/',
    chown: ins.chown,
    chmod: ins.chmod,
    excludes: ins.exclude,
    parents: ins.parents,
    // Only when not the default, so that keys of COPY/ADD without the flags stay as they were.
    ...(ins.link ? { link: true } : {}),
    ...(ins.kind === 'add' && ins.unpack === false ? { unpack: false } : {}),
    // A URL's file is not extracted unless asked (BuildKit: AttemptUnpack only with --unpack).
    ...(remotes && ins.kind === 'add' && ins.unpack === true ? { unpack: true } : {}),
  };
  // A URL or git remote is not in the key: its content is (BuildKit's http and git cache keys).
  const keyParts: KeyParts = { parent: cursor.key, op: ins.kind, ...fields, ...(remotes ? { sources: [] } : {}), content };
  const flags = [
    ins.from !== undefined ? `--from=${ins.from}` : '',
    ins.chown !== undefined ? `--chown=${ins.chown}` : '',
    ins.chmod !== undefined ? `--chmod=${ins.chmod}` : '',
  ].filter(Boolean);
  const text = [...flags, ...ins.sources, ins.dest].join(' ');
  return {
    op: 'copy',
    index: 0,
    display: `${a.label()} ${kw} ${text}`,
    createdBy: `${kw} ${text} # buildkit`,
    cacheKey: cacheKeyOf(keyParts),
    keyParts,
    explain: files ? { files } : undefined,
    origin: ins.range,
    edits: [],
    from,
    ...fields,
    inline,
    isAdd: ins.kind === 'add',
    unpack: ins.kind === 'add' && (remotes ? ins.unpack === true : ins.unpack !== false),
    link: ins.link,
    mkdirOnly: false,
    ...(contextSelection ? { contextSelection } : {}),
    ...(missingSource ? { missingSource } : {}),
  };
}
