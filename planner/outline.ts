import { posix } from 'node:path';
import { UserError, type SourceRange } from '../common/index.js';
import { expandWord, type Instruction, type RawDockerfile, type RawInstruction } from '../parser/index.js';
import { docComment } from './doc-comment.js';
import { messages } from './messages.js';
import { platformArgs } from './scope.js';
import { reachableStages } from './stage-deps.js';
import { locationOf, type Outline, type OutlineArg, type OutlineSecret } from './subrequest-types.js';

export interface OutlineOptions {
  buildArgs: ReadonlyMap<string, string>;
  target?: string;
  platform: { os: string; architecture: string; variant?: string };
}

interface ArgInfo {
  name: string;
  value?: string;
  description?: string;
  range: SourceRange;
  /** The args its default refers to: using it uses them. */
  deps: Set<string>;
}

interface StageFacts {
  name?: string;
  node: RawInstruction;
  from: Extract<Instruction, { kind: 'from' }>;
  body: { ins: Instruction; node: RawInstruction }[];
}

function tryExpand(word: string, env: ReadonlyMap<string, string>, escape: string) {
  try {
    return expandWord(word, env, { escape });
  } catch {
    return undefined;
  }
}

/**
 * `--call outline` (dockerfile2llb/outline.go): the build args, secrets and ssh ids the
 * target and the stages it needs use, with the `# NAME description` comments above them,
 * in the order they appear in the Dockerfile.
 */
export function outlineOf(raw: RawDockerfile, typed: readonly Instruction[], text: string, o: OutlineOptions): Outline {
  const escape = raw.directives.escape ?? '\\';
  const stages: StageFacts[] = [];
  const globalArgs = new Map<string, ArgInfo>();
  const env = new Map(platformArgs(o.platform));
  typed.forEach((ins, i) => {
    const node = raw.instructions[i];
    if (ins.kind === 'from') stages.push({ name: ins.stageName?.toLowerCase(), node, from: ins, body: [] });
    else if (stages.length) stages[stages.length - 1].body.push({ ins, node });
    else if (ins.kind === 'arg') {
      for (const a of ins.args) {
        const info: ArgInfo = { name: a.name, description: docComment(node.comments, a.name), range: node.range, deps: new Set() };
        if (o.buildArgs.has(a.name)) info.value = o.buildArgs.get(a.name);
        else if (a.default !== undefined) {
          const r = tryExpand(a.default, env, escape);
          info.value = r?.value;
          for (const u of r?.used ?? []) if (u !== a.name) info.deps.add(u);
        }
        if (info.value !== undefined) env.set(a.name, info.value);
        globalArgs.set(a.name, info);
      }
    }
  });
  const target = o.target ? stages.findIndex((s) => s.name === o.target!.toLowerCase()) : stages.length - 1;
  if (target < 0) throw new UserError('unknown-target', messages['unknown-target'](o.target!, stages.flatMap((s) => (s.name ? [s.name] : []))), { exitCode: 1 });
  const t = stages[target];
  const args: OutlineArg[] = [];
  const secrets: OutlineSecret[] = [];
  const ssh: OutlineSecret[] = [];
  const seen = { args: new Set<string>(), secrets: new Set<string>(), ssh: new Set<string>() };
  // BuildKit walks the target, then its base, then its other dependencies; the first stage
  // to use a name gives its description, and the lists are sorted by line in the end.
  for (const k of [...reachableStages(typed, target, env, escape)].sort((a, b) => (a === target ? -1 : b === target ? 1 : b - a))) {
    const s = stages[k];
    const used = new Set<string>();
    const local = new Map<string, ArgInfo>();
    for (const word of [s.from.image, s.from.platform]) if (word !== undefined) for (const u of tryExpand(word, env, escape)?.used ?? []) used.add(u);
    for (const { ins, node } of s.body) {
      if (ins.kind === 'arg') {
        for (const a of ins.args) {
          used.add(a.name);
          const inherited = a.default === undefined && !o.buildArgs.has(a.name) && globalArgs.has(a.name);
          if (inherited) continue;
          const value = o.buildArgs.get(a.name) ?? a.default;
          local.set(a.name, { name: a.name, value, description: docComment(node.comments, a.name), range: node.range, deps: new Set() });
        }
      } else if (ins.kind === 'run') {
        for (const m of ins.mounts) {
          const required = m.options.required === 'true';
          if (m.type === 'secret') {
            const id = m.options.id || posix.basename(m.options.target ?? '');
            if (id && !seen.secrets.has(id)) {
              seen.secrets.add(id);
              secrets.push({ name: id, ...(required ? { required } : {}), location: locationOf(node.range) });
            }
          } else if (m.type === 'ssh') {
            const id = m.options.id || 'default';
            if (!seen.ssh.has(id)) {
              seen.ssh.add(id);
              ssh.push({ name: id, ...(required ? { required } : {}), location: locationOf(node.range) });
            }
          }
        }
      }
    }
    const withDeps = (name: string, out: Set<string>) => {
      if (out.has(name)) return;
      out.add(name);
      for (const d of (local.get(name) ?? globalArgs.get(name))?.deps ?? []) withDeps(d, out);
    };
    const all = new Set<string>();
    for (const u of used) withDeps(u, all);
    for (const name of all) {
      const info = local.get(name) ?? globalArgs.get(name);
      if (!info || seen.args.has(name)) continue;
      seen.args.add(name);
      args.push({
        name,
        ...(info.description ? { description: info.description } : {}),
        ...(info.value ? { value: info.value } : {}),
        location: locationOf(info.range),
      });
    }
  }
  const byLine = (a: { location?: { ranges: { start: { line: number } }[] } }, b: typeof a) =>
    (a.location?.ranges[0]?.start.line ?? 0) - (b.location?.ranges[0]?.start.line ?? 0);
  const description = t?.name ? docComment(t.node.comments, t.name) : undefined;
  return {
    ...(t?.name ? { name: t.name } : {}),
    ...(description ? { description } : {}),
    ...(args.length ? { args: args.sort(byLine) } : {}),
    ...(secrets.length ? { secrets: secrets.sort(byLine) } : {}),
    ...(ssh.length ? { ssh: ssh.sort(byLine) } : {}),
    sources: [Buffer.from(text, 'utf8').toString('base64')],
  };
}
