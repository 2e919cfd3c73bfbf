/**
 * Build checks and `--call` through the CLI: warnings at the end of a build with a caret,
 * `--check` exiting 1 on a warning, `error=true` failing the build, `--call outline|targets`
 * as buildx prints them (BuildKit's frontend/subrequests/{lint,outline,targets} and
 * docker/buildx commands/build.go printResult), TARGETSTAGE, SOURCE_DATE_EPOCH and `# syntax=`.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { projectRoot } from '../../common/index.js';
import { runCli } from '../../cli/tsbuild.js';
import { writeTree } from '../helpers/files.js';
import { tempDir } from '../helpers/temp.js';

let work: string;
let root: string;

before(async () => {
  work = await tempDir();
  root = join(work, 'root');
});

async function project(name: string, dockerfile: string, files: Record<string, string> = {}): Promise<string> {
  const dir = join(work, name);
  await writeTree(dir, { Dockerfile: dockerfile, 'a.txt': 'a\n', ...files });
  return dir;
}

test('a build prints each warning at its end, with the line and a caret, and still succeeds', async () => {
  const dir = await project('warns', 'FROM scratch\nCOPY a.txt /\nCMD echo hi\n');
  const r = await runCli(['build', '--progress', 'plain', '-t', 'warns', dir], { root });
  assert.equal(r.code, 0, r.stderr);
  const at = r.stderr.indexOf('WARN: JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals (line 3)');
  assert.ok(at > r.stderr.indexOf('naming to'), r.stderr);
  const tail = r.stderr.slice(at).split('\n');
  assert.match(tail[1], /Dockerfile:3$/);
  assert.equal(tail[3], '   3 | CMD echo hi');
  assert.equal(tail[4], '     | ^^^^^^^^^^^');
  assert.equal(tail[5], '  https://docs.docker.com/go/dockerfile/rule/json-args-recommended/');
});

test('--check runs only the checks: exit 1 and the report on a warning, 0 when clean', async () => {
  const dir = await project('check', 'FROM scratch AS Build\nRUN false\nCMD echo hi\n');
  const r = await runCli(['build', '--check', dir], { root });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /^Check complete, 2 warnings have been found!\n\nWARNING: StageNameCasing - https:\/\/docs\.docker\.com\/go\/dockerfile\/rule\/stage-name-casing\/\nStage name 'Build' should be lowercase\n.*Dockerfile:1\n/);
  assert.match(r.stdout, /WARNING: JSONArgsRecommended - .*\n.*\n.*Dockerfile:3\n {3}2 \| RUN false\n {3}3 \| CMD echo hi\n {5}\| \^+\n$/);
  assert.doesNotMatch(r.stderr, /#\d|RUN false/); // nothing was built
  const clean = await project('clean', 'FROM scratch\nCOPY a.txt /\nCMD ["/a"]\n');
  const ok = await runCli(['build', '--call=check', clean], { root });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, 'Check complete, no warnings found.\n');
});

test('--call=check,format=json prints BuildKit\'s lint result', async () => {
  const dir = await project('check-json', 'FROM scratch\nMAINTAINER me\n');
  const r = await runCli(['build', '--call=check,format=json', dir], { root });
  assert.equal(r.code, 1, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.warnings, [
    {
      ruleName: 'MaintainerDeprecated',
      description: 'The MAINTAINER instruction is deprecated, use a label instead to define an image author',
      url: 'https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/',
      detail: 'Maintainer instruction is deprecated in favor of using label',
      location: { ranges: [{ start: { line: 2 }, end: { line: 2 } }] },
    },
  ]);
  assert.equal(Buffer.from(j.sources[0].data, 'base64').toString(), 'FROM scratch\nMAINTAINER me\n');
});

test('# check=error=true fails the build after printing its warnings; skip= silences a rule', async () => {
  const dir = await project('strict', '# check=error=true\nFROM scratch\nCOPY a.txt /\nCMD echo hi\n');
  const r = await runCli(['build', '-t', 'strict', dir], { root });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /WARN: JSONArgsRecommended: .*\(line 4\)/);
  assert.match(r.stderr, /error\[check-failed\]: lint violation found for rules: JSONArgsRecommended/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  const skipped = await project('skipped', '# check=skip=JSONArgsRecommended;error=true\nFROM scratch\nCOPY a.txt /\nCMD echo hi\n');
  const s = await runCli(['build', '-t', 'skipped', skipped], { root });
  assert.equal(s.code, 0, s.stderr);
  assert.doesNotMatch(s.stderr, /WARN:/);
  const byArg = await runCli(['build', '--build-arg', 'BUILDKIT_DOCKERFILE_CHECK=skip=all', '-t', 'byarg', dir], { root });
  assert.equal(byArg.code, 0, byArg.stderr);
  assert.doesNotMatch(byArg.stderr, /WARN:|not consumed/);
});

test('--call outline prints the target\'s args and secrets; its JSON matches the golden file', async () => {
  const text = await readFile(join(projectRoot, 'test', 'planner', 'golden', 'outline.Dockerfile'), 'utf8');
  const dir = await project('outline', text);
  const r = await runCli(['build', '--call', 'outline', '--format', 'json', dir], { root });
  assert.equal(r.code, 0, r.stderr);
  const golden = JSON.parse(await readFile(join(projectRoot, 'test', 'planner', 'golden', 'outline.json'), 'utf8'));
  // The golden file leaves out `sources` (the Dockerfile's bytes, base64): checked here.
  golden.sources = [Buffer.from(text).toString('base64')];
  assert.deepEqual(JSON.parse(r.stdout), golden);
  const t = await runCli(['build', '--call=outline', dir], { root });
  assert.equal(t.code, 0, t.stderr);
  assert.equal(
    t.stdout,
    [
      'TARGET:      release',
      'DESCRIPTION: is the image we ship',
      '',
      'BUILD ARG    VALUE          DESCRIPTION',
      'GO_VERSION   1.22           the Go toolchain release',
      'BASE         busybox:1.22   ',
      'MODE         release        how to build',
      '',
      'SECRET   REQUIRED',
      'netrc    true',
      'npmrc    ',
      '',
      'SSH       REQUIRED',
      'default   ',
      '',
      '',
    ].join('\n'),
  );
});

test('--call targets lists the stages with their descriptions', async () => {
  const text = await readFile(join(projectRoot, 'test', 'planner', 'golden', 'outline.Dockerfile'), 'utf8');
  const dir = await project('targets', text);
  const r = await runCli(['build', '--call', 'targets', dir], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'TARGET            DESCRIPTION\nbuild             compiles the program\nrelease (default) is the image we ship\n');
  const j = JSON.parse((await runCli(['build', '--call=targets,format=json', dir], { root })).stdout);
  assert.deepEqual(j.targets.map((x: { name: string; base: string }) => [x.name, x.base]), [['build', '${BASE}'], ['release', 'scratch']]);
});

test('a bad --call is one usage line', async () => {
  const dir = await project('badcall', 'FROM scratch\n');
  const r = await runCli(['build', '--call', 'frobnicate', dir], { root });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid --call "frobnicate": want build, check, outline or targets/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

async function inspect(name: string): Promise<{ Created: string; Config: { Labels?: Record<string, string> } }> {
  const r = await runCli(['inspect', name], { root });
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  return Array.isArray(j) ? j[0] : j;
}

test('TARGETSTAGE is the stage being built', async () => {
  const dir = await project('stage', 'FROM scratch AS one\nARG TARGETSTAGE\nLABEL stage=$TARGETSTAGE\nFROM one AS two\nARG TARGETSTAGE\nLABEL stage=$TARGETSTAGE\n');
  assert.equal((await runCli(['build', '-q', '-t', 'stage-two', dir], { root })).code, 0);
  assert.equal((await inspect('stage-two')).Config.Labels?.stage, 'two');
  assert.equal((await runCli(['build', '-q', '--target', 'one', '-t', 'stage-one', dir], { root })).code, 0);
  assert.equal((await inspect('stage-one')).Config.Labels?.stage, 'one');
});

test('ARG SOURCE_DATE_EPOCH=<default> sets the image time; a build arg overrides it', async () => {
  const dir = await project('epoch', 'ARG SOURCE_DATE_EPOCH=1700000000\nFROM scratch\nCOPY a.txt /\n');
  const env = { SOURCE_DATE_EPOCH: '' };
  assert.equal((await runCli(['build', '-q', '-t', 'epoch', dir], { root, env })).code, 0);
  assert.equal((await inspect('epoch')).Created, '2023-11-14T22:13:20.000Z');
  assert.equal((await runCli(['build', '-q', '--build-arg', 'SOURCE_DATE_EPOCH=86400', '-t', 'epoch2', dir], { root, env })).code, 0);
  assert.equal((await inspect('epoch2')).Created, '1970-01-02T00:00:00.000Z');
  const bad = await project('epoch-bad', 'ARG SOURCE_DATE_EPOCH=context\nFROM scratch\n');
  const r = await runCli(['build', '-q', bad], { root, env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Dockerfile:1:1: error\[source-date-epoch\]: SOURCE_DATE_EPOCH "context" is not supported yet/);
});

test('# syntax= naming another frontend image gives one warning; docker/dockerfile gives none', async () => {
  const other = await project('syntax', '# syntax=example.com/my/frontend:1\nFROM scratch\nCOPY a.txt /\n');
  const r = await runCli(['build', '--progress', 'plain', other], { root });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.includes('example.com/my/frontend'));
  assert.deepEqual(lines, ['WARNING: # syntax=example.com/my/frontend:1: tsbuild uses its own Dockerfile frontend and does not run that image']);
  const docker = await project('syntax-docker', '# syntax=docker/dockerfile:1.7\nFROM scratch\nCOPY a.txt /\n');
  const d = await runCli(['build', '--progress', 'plain', docker], { root });
  assert.equal(d.code, 0, d.stderr);
  assert.doesNotMatch(d.stderr, /WARNING/);
});
