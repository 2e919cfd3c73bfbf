import assert from 'node:assert/strict';
import { chmod, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { writeTree } from '../helpers/files.js';
import { tempDir } from '../helpers/temp.js';

const dockerfile = `FROM scratch
ARG V=1
COPY a /a
COPY b /b
ENV X=$V
COPY c /c
COPY dir/ /dir/
`;

/** The layer steps of a plain-progress build that ran (were not CACHED). */
function rebuilt(stderr: string): string[] {
  const names = new Map<string, string>();
  const out: string[] = [];
  for (const line of stderr.split('\n')) {
    const start = /^#(\d+) \[\d+\/\d+\] (.*)$/.exec(line);
    if (start) names.set(start[1], start[2]);
    const done = /^#(\d+) DONE/.exec(line);
    if (done && names.has(done[1]) && !names.get(done[1])!.startsWith('FROM')) out.push(names.get(done[1])!);
  }
  return out;
}

const cases: { name: string; edit: (ctx: string) => Promise<void>; args?: string[]; want: string[] }[] = [
  { name: 'nothing changed: everything cached', edit: async () => {}, want: [] },
  {
    name: 'a changed file invalidates its COPY and what follows',
    edit: (ctx) => writeFile(join(ctx, 'a'), 'A2\n'),
    want: ['COPY a /a', 'COPY b /b', 'COPY c /c', 'COPY dir/ /dir/'],
  },
  { name: 'a change late in the file rebuilds only from there', edit: (ctx) => writeFile(join(ctx, 'c'), 'C2\n'), want: ['COPY c /c', 'COPY dir/ /dir/'] },
  {
    name: "a file's mode is content",
    edit: (ctx) => chmod(join(ctx, 'b'), 0o755),
    want: ['COPY b /b', 'COPY c /c', 'COPY dir/ /dir/'],
  },
  {
    name: 'an mtime-only change invalidates nothing',
    edit: async (ctx) => {
      const t = new Date(Date.now() - 3600_000);
      for (const f of ['a', 'b', 'c', 'dir/x']) await utimes(join(ctx, f), t, t);
    },
    want: [],
  },
  { name: 'a .dockerignored file invalidates nothing', edit: (ctx) => writeFile(join(ctx, 'dir/ignored.tmp'), 'changed\n'), want: [] },
  { name: 'a build arg used by ENV invalidates from the ENV on', edit: async () => {}, args: ['--build-arg', 'V=2'], want: ['COPY c /c', 'COPY dir/ /dir/'] },
  { name: 'a new file in a copied dir invalidates that COPY', edit: (ctx) => writeFile(join(ctx, 'dir/y'), 'y\n'), want: ['COPY dir/ /dir/'] },
  { name: '--no-cache runs every step', edit: async () => {}, args: ['--no-cache'], want: ['COPY a /a', 'COPY b /b', 'COPY c /c', 'COPY dir/ /dir/'] },
];

for (const c of cases) {
  test(`cache: ${c.name}`, async () => {
    const work = await tempDir();
    const root = join(work, 'root');
    const ctx = join(work, 'ctx');
    await writeTree(ctx, {
      Dockerfile: dockerfile,
      a: 'A\n',
      b: 'B\n',
      c: 'C\n',
      'dir/x': 'x\n',
      'dir/ignored.tmp': 'tmp\n',
      '.dockerignore': '**/*.tmp\n',
    });
    const first = await runCli(['build', '--progress', 'plain', '-t', 'keys', ctx], { root });
    assert.equal(first.code, 0, first.stderr);
    await c.edit(ctx);
    const second = await runCli(['build', '--progress', 'plain', ...(c.args ?? []), '-t', 'keys', ctx], { root });
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(rebuilt(second.stderr), c.want);
  });
}

const explained: { name: string; edit: (ctx: string) => Promise<void>; args?: string[]; want: RegExp }[] = [
  { name: 'a changed file is named', edit: (ctx) => writeFile(join(ctx, 'dir/x'), 'x2\n'), want: /#\d+ cache miss: dir\/x changed/ },
  { name: 'an added file is named', edit: (ctx) => writeFile(join(ctx, 'dir/new'), 'n\n'), want: /#\d+ cache miss: dir\/new added/ },
  {
    name: 'a changed ENV is named at the next step it invalidates',
    edit: async () => {},
    args: ['--build-arg', 'V=2'],
    want: /#\d+ cache miss: ENV X=2: the instruction changed/,
  },
];

for (const c of explained) {
  test(`cache miss explained: ${c.name}`, async () => {
    const work = await tempDir();
    const root = join(work, 'root');
    const ctx = join(work, 'ctx');
    await writeTree(ctx, { Dockerfile: dockerfile, a: 'A\n', b: 'B\n', c: 'C\n', 'dir/x': 'x\n' });
    assert.equal((await runCli(['build', '-q', '-t', 'keys', ctx], { root })).code, 0);
    await c.edit(ctx);
    const second = await runCli(['build', '--progress', 'plain', ...(c.args ?? []), '-t', 'keys', ctx], { root });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, c.want);
  });
}
