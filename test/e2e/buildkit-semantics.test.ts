import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { runCli, type CliResult } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree, type Tree } from '../helpers/files.js';
import { readLayoutImage, saveAndUnpack } from '../helpers/unpack.js';

// Dockerfile semantics where tsbuild differed from BuildKit (issue 23), each built for real
// and checked in the image: files read back through umoci (a tool we did not write) or `run`.
let work: string;
let root: string;

before(async () => {
  ({ work, root } = await busyboxWork('tsbuild-semantics-'));
});

async function build(name: string, files: Tree, args: string[] = []): Promise<CliResult> {
  const ctx = join(work, `ctx-${name}`);
  await writeTree(ctx, files);
  return runCli(['build', '--progress', 'plain', '-t', name, ...args, ctx], { root });
}

async function run(image: string, script: string): Promise<CliResult> {
  return runCli(['run', '--rm', image, 'sh', '-c', script], { root });
}

/** The image unpacked by umoci: its rootfs dir and its config. */
async function unpacked(image: string) {
  const { bundle, layout } = await saveAndUnpack(root, image, join(work, `unpack-${image}`));
  return { rootfs: join(bundle, 'rootfs'), config: (await readLayoutImage(layout)).config };
}

// Layers may repeat in an image (BuildKit builds this); overlayfs refuses a lower dir named
// twice, so the repeat below is left out (executor/overlay-lowers.ts).
test('an image holding the same layer twice runs RUN steps in the build and in `run`', async () => {
  const b = await build('repeat-layer', {
    Dockerfile: 'FROM busybox\nCOPY a /a\nCOPY b /b\nCOPY a /a\nRUN cat /a /b > /ab\n',
    a: 'aaa\n',
    b: 'bbb\n',
  });
  assert.equal(b.code, 0, b.stderr);
  const { config } = await unpacked('repeat-layer');
  const ids = config.rootfs.diff_ids;
  assert.equal(ids[1], ids[3], 'the two COPY a layers are one layer');
  const r = await run('repeat-layer', 'cat /ab');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'aaa\nbbb\n');
});

test('two RUN steps that make identical layers (mtimes clamped by SOURCE_DATE_EPOCH) build and run', async () => {
  const ctx = join(work, 'ctx-repeat-run');
  await writeTree(ctx, { Dockerfile: 'FROM busybox\nRUN touch /bli\nCOPY b /b\nRUN touch /bli\nRUN ls /bli /b > /listed\n', b: 'bbb\n' });
  const b = await runCli(['build', '--progress', 'plain', '-t', 'repeat-run', ctx], { root, env: { ...process.env, SOURCE_DATE_EPOCH: '1000' } });
  assert.equal(b.code, 0, b.stderr);
  const { config } = await unpacked('repeat-run');
  assert.equal(config.rootfs.diff_ids[1], config.rootfs.diff_ids[3], 'the two RUN touch layers are one layer');
  const r = await run('repeat-run', 'cat /listed');
  assert.equal(r.stdout, '/b\n/bli\n', r.stderr);
});

// BuildKit's dispatchState.init (dockerfile2llb/convert.go): a stage built FROM another takes
// its state, the declared ARGs and their values included; a re-declared `ARG X` without a
// default keeps that value unless a build arg or a global ARG gives one (dispatchArg).
const INHERIT = `FROM busybox AS base1
ARG ARG1=blubb
FROM base1 AS base4
RUN echo "1:$ARG1" > /inherited
ARG ARG1
RUN echo "2:$ARG1" >> /inherited
COPY \${ARG1}.txt /copied
`;

test('ARGs of a stage are inherited by a stage built FROM it, with their values', async () => {
  const files = { Dockerfile: INHERIT, 'blubb.txt': 'from blubb\n', 'over.txt': 'from over\n' };
  const b = await build('arg-inherit', files);
  assert.equal(b.code, 0, b.stderr);
  const { rootfs, config } = await unpacked('arg-inherit');
  assert.equal(await readFile(join(rootfs, 'inherited'), 'utf8'), '1:blubb\n2:blubb\n');
  assert.equal(await readFile(join(rootfs, 'copied'), 'utf8'), 'from blubb\n');
  assert.ok(
    config.history.some((h) => h.created_by?.startsWith('RUN |1 ARG1=blubb ')),
    `history shows the inherited arg: ${JSON.stringify(config.history.map((h) => h.created_by))}`,
  );
  assert.ok(!JSON.stringify(config.config.Env ?? []).includes('ARG1'), 'an ARG is not persisted in the image');
});

test('a build arg overrides an ARG the base stage declares, and the stage built FROM it sees the override', async () => {
  const files = { Dockerfile: INHERIT, 'blubb.txt': 'from blubb\n', 'over.txt': 'from over\n' };
  const b = await build('arg-inherit-over', files, ['--build-arg', 'ARG1=over']);
  assert.equal(b.code, 0, b.stderr);
  const { rootfs } = await unpacked('arg-inherit-over');
  assert.equal(await readFile(join(rootfs, 'inherited'), 'utf8'), '1:over\n2:over\n');
  assert.equal(await readFile(join(rootfs, 'copied'), 'utf8'), 'from over\n');
});

test('a re-declared ARG without a default takes the global ARG\'s value over the inherited one', async () => {
  const b = await build('arg-inherit-global', {
    Dockerfile: `ARG ARG1=glob\n${INHERIT.replace('COPY ${ARG1}.txt /copied\n', '')}`,
  });
  assert.equal(b.code, 0, b.stderr);
  const { rootfs } = await unpacked('arg-inherit-global');
  assert.equal(await readFile(join(rootfs, 'inherited'), 'utf8'), '1:blubb\n2:glob\n');
});

// BuildKit's resolveStages (dockerfile2llb/convert.go) collects the base stage's ONBUILD
// commands as triggers of the stage built FROM it; dispatchState.init clears OnBuild there.
test('ONBUILD triggers of a stage run in a stage built FROM it and are cleared from its config', async () => {
  const b = await build('onbuild-stage', {
    Dockerfile: `FROM busybox AS base
ONBUILD RUN echo triggered > /onbuild
ONBUILD ENV FROM_TRIGGER=yes
FROM base
RUN cat /onbuild > /seen
`,
  });
  assert.equal(b.code, 0, b.stderr);
  const { rootfs, config } = await unpacked('onbuild-stage');
  assert.equal(await readFile(join(rootfs, 'seen'), 'utf8'), 'triggered\n');
  assert.ok((config.config.Env as string[]).includes('FROM_TRIGGER=yes'), JSON.stringify(config.config.Env));
  assert.equal(config.config.OnBuild ?? null, null, 'the triggers ran: none are left in the child');
  // The stage that declares them keeps them and does not run them itself.
  const base = await build('onbuild-stage-base', { Dockerfile: (await readFile(join(work, 'ctx-onbuild-stage', 'Dockerfile'), 'utf8')) }, ['--target', 'base']);
  assert.equal(base.code, 0, base.stderr);
  const own = await unpacked('onbuild-stage-base');
  assert.deepEqual(own.config.config.OnBuild, ['RUN echo triggered > /onbuild', 'ENV FROM_TRIGGER=yes']);
  await assert.rejects(stat(join(own.rootfs, 'onbuild')), { code: 'ENOENT' });
});

// The name of an ARG is expanded like its default (issue 23; BuildKit's ArgCommand.Expand in
// frontend/dockerfile/instructions/commands.go expands Key and Value, though its dispatch has
// skipped it for ARG since 47a52a17b, v0.14; the classic builder expands it).
test('variables in an ARG name are expanded: ARG ${src}=x declares the ARG src names', async () => {
  const b = await build('arg-name', {
    Dockerfile: 'FROM busybox\nENV src=file3\nARG ${src}=bar.txt\nCOPY $file3 /baz\nRUN echo "$file3" > /name\n',
    'bar.txt': 'bar\n',
    'other.txt': 'other\n',
  });
  assert.equal(b.code, 0, b.stderr);
  const { rootfs } = await unpacked('arg-name');
  assert.equal(await readFile(join(rootfs, 'baz'), 'utf8'), 'bar\n', '/baz is the file, not the whole context');
  assert.equal(await readFile(join(rootfs, 'name'), 'utf8'), 'bar.txt\n');
});

// BuildKit's dispatchWorkdir (dockerfile2llb/convert.go) makes the dir with llb.Mkdir and
// WithParents, WithUser(the image's User); readUser (solver/llbsolver/ops/user_linux.go)
// takes a number as uid and gid and a name from the image's passwd and group.
test('WORKDIR creates missing dirs owned by the current USER, names resolved from the image', async () => {
  const b = await build('workdir-owner', {
    Dockerfile: `FROM busybox
RUN echo 'foo:x:1500:1600::/home/foo:/bin/sh' >> /etc/passwd && echo 'bar:x:1700:' >> /etc/group
USER 1234:1234
WORKDIR /w/x
USER foo
WORKDIR /n/m
USER foo:bar
WORKDIR /g
USER 2000
WORKDIR /tmp/exists
WORKDIR /w/x/deeper
`,
  });
  assert.equal(b.code, 0, b.stderr);
  const { rootfs, config } = await unpacked('workdir-owner');
  const owner = async (p: string) => {
    const st = await stat(join(rootfs, p));
    return `${st.uid}:${st.gid}:${(st.mode & 0o7777).toString(8)}`;
  };
  assert.equal(await owner('w'), '1234:1234:755');
  assert.equal(await owner('w/x'), '1234:1234:755');
  assert.equal(await owner('n'), '1500:1600:755');
  assert.equal(await owner('n/m'), '1500:1600:755');
  assert.equal(await owner('g'), '1500:1700:755');
  assert.equal(await owner('tmp'), '0:0:1777', 'an existing dir keeps its owner and mode');
  assert.equal(await owner('tmp/exists'), '2000:2000:755');
  assert.equal(await owner('w/x/deeper'), '2000:2000:755');
  assert.equal(config.config.WorkingDir, '/w/x/deeper');
});

// BuildKit's default cache id is path.Clean(target) (dockerfile2llb/convert_runmount.go):
// `/tmp/c/`, `/tmp/./c` and `/tmp/c` name one cache.
test('a cache mount without an id is keyed by its cleaned target: /tmp/c/ and /tmp/c share one cache', async () => {
  const b = await build('cache-clean-id', {
    Dockerfile: `FROM busybox
RUN --mount=type=cache,target=/tmp/c/ sh -c 'echo shared > /tmp/c/f'
RUN --mount=type=cache,target=/tmp/./c cat /tmp/c/f > /seen-dot
RUN --mount=type=cache,target=/tmp/c cat /tmp/c/f > /seen
`,
  });
  assert.equal(b.code, 0, b.stderr);
  const { rootfs } = await unpacked('cache-clean-id');
  assert.equal(await readFile(join(rootfs, 'seen-dot'), 'utf8'), 'shared\n');
  assert.equal(await readFile(join(rootfs, 'seen'), 'utf8'), 'shared\n');
});

// BuildKit's testHeredocVarSubstitution and testCopyHeredocSpecialSymbols
// (frontend/dockerfile/dockerfile_heredoc_test.go): an unquoted name expands the body with
// the ARG/ENV in scope (SourcesAndDest.ExpandRaw: escapes applied, quotes kept); a quoted
// name keeps it as written.
test('COPY heredocs expand ARG and ENV when the delimiter is unquoted, never when it is quoted', async () => {
  const docs: [string, string, string][] = [
    ['c1', '<<EOF', 'Hello ${name}, $greeting!'],
    ['c2', "<<'EOF'", 'Hello ${name}!'],
    ['c3', '<<"EOF"', 'Hello ${name}!'],
    ['q1', '<<EOF', "Hello '${name}'!"],
    ['q2', '<<EOF', 'Hello "${name}"!'],
    ['qsingle2', "<<'EOF'", 'Hello "${name}"!'],
    ['slash1', '<<EOF', '\\'],
    ['slash2', '<<EOF', '\\\\'],
    ['slash3', '<<EOF', '\\$name'],
    ['rawslash3', '<<"EOF"', '\\$name'],
    ['unset', '<<EOF', '[${nothing}]'],
  ];
  const body = docs.map(([file, op, text]) => `COPY ${op} /dest/${file}\n${text}\nEOF\n`).join('');
  const b = await build('copy-heredoc-expand', {
    Dockerfile: `FROM busybox\nARG name=world\nENV greeting=hi\n${body}ADD <<EOF /dest/added\n$name\nEOF\n`,
  });
  assert.equal(b.code, 0, b.stderr);
  const { rootfs } = await unpacked('copy-heredoc-expand');
  const want: Record<string, string> = {
    c1: 'Hello world, hi!\n',
    c2: 'Hello ${name}!\n',
    c3: 'Hello ${name}!\n',
    q1: "Hello 'world'!\n",
    q2: 'Hello "world"!\n',
    qsingle2: 'Hello "${name}"!\n',
    slash1: '\n',
    slash2: '\\\n',
    slash3: '$name\n',
    rawslash3: '\\$name\n',
    unset: '[]\n',
    added: 'world\n',
  };
  for (const [file, content] of Object.entries(want)) {
    assert.equal(await readFile(join(rootfs, 'dest', file), 'utf8'), content, file);
  }
});

// Issue 23 item 9 saw mount points left in the image by Docker 20.10's BuildKit (v0.8), whose
// executor/stubs.go removed only empty stub *files*. BuildKit removes empty stub dirs since
// v0.11 (commits 677897377, 2cae26f61: "stubs cleaner should recursively remove empty
// directory mounts") and the Dockerfile frontend asks for it recursively
// (client/llb/exec.go RemoveMountStubsRecursive): current BuildKit leaves nothing, and so do we.
test('bind and cache mount targets the step had to create, parents included, are not left in the image', async () => {
  const b = await build('mount-stubs', {
    Dockerfile: [
      'FROM busybox',
      'RUN --mount=type=bind,target=/tmp/bound/deeper --mount=type=cache,target=/var/made/cache true',
      'RUN --mount=type=bind,target=/tmp/kept sh -c "touch /tmp/kept/../sibling"',
      '',
    ].join('\n'),
    x: 'x\n',
  });
  assert.equal(b.code, 0, b.stderr);
  const { rootfs } = await unpacked('mount-stubs');
  for (const p of ['tmp/bound', 'var/made', 'tmp/kept']) {
    await assert.rejects(stat(join(rootfs, p)), { code: 'ENOENT' }, `${p} was left in the image`);
  }
  await stat(join(rootfs, 'tmp/sibling'));
  await stat(join(rootfs, 'var'));
});
