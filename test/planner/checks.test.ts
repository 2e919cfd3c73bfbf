/**
 * The build checks, one rule at a time: a Dockerfile that trips it and one that does not.
 * Cases follow BuildKit's frontend/dockerfile/dockerfile_lint_test.go and the rule logic in
 * frontend/dockerfile/dockerfile2llb/validations.go and convert.go, in our own files.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDockerignore } from '../../context/index.js';
import { parseRaw, typeInstructions } from '../../parser/index.js';
import { RULE_NAMES, runChecks, type BaseInfo, type CheckInput } from '../../planner/index.js';

async function check(text: string, extra: Partial<CheckInput> = {}) {
  const raw = parseRaw(text);
  return runChecks({ raw, instructions: typeInstructions(raw), buildArgs: new Map(), platform: { os: 'linux', architecture: 'amd64' }, ...extra });
}
async function rules(text: string, extra: Partial<CheckInput> = {}): Promise<string[]> {
  return (await check(text, extra)).warnings.map((w) => w.rule);
}
const image = (info: Partial<BaseInfo>) => ({ baseImage: async () => ({ env: ['PATH=/bin'], os: 'linux', architecture: 'amd64', ...info }) });

interface Case {
  rule: string;
  bad: string;
  good: string;
  detail?: string;
  line?: number;
  extra?: Partial<CheckInput>;
}

const cases: Case[] = [
  { rule: 'StageNameCasing', bad: 'FROM scratch AS Builder\n', good: 'FROM scratch AS builder\n', detail: "Stage name 'Builder' should be lowercase" },
  { rule: 'FromAsCasing', bad: 'FROM scratch as base\n', good: 'from scratch as base\n', detail: "'as' and 'FROM' keywords' casing do not match" },
  { rule: 'NoEmptyContinuation', bad: 'FROM scratch\nLABEL a=1 \\\n\n  b=2\n', good: 'FROM scratch\nLABEL a=1 \\\n  b=2\n', detail: 'Empty continuation line', line: 4 },
  {
    rule: 'ConsistentInstructionCasing',
    bad: 'FROM scratch\nLABEL a=1\ncopy x /x\n',
    good: 'from scratch\nlabel a=1\ncopy x /x\n',
    detail: "Command 'copy' should match the case of the command majority (uppercase)",
    line: 3,
  },
  { rule: 'DuplicateStageName', bad: 'FROM scratch AS a\nFROM scratch AS a\n', good: 'FROM scratch AS a\nFROM scratch AS b\n', detail: 'Duplicate stage name "a", stage names should be unique', line: 2 },
  { rule: 'ReservedStageName', bad: 'FROM scratch AS context\n', good: 'FROM scratch AS ctx\n', detail: 'Stage name should not use the same name as reserved stage "context"' },
  {
    rule: 'JSONArgsRecommended',
    bad: 'FROM scratch\nENTRYPOINT my-app --serve\n',
    good: 'FROM scratch\nSHELL ["/bin/sh", "-c"]\nENTRYPOINT my-app --serve\n',
    detail: 'JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals',
    line: 2,
  },
  { rule: 'MaintainerDeprecated', bad: 'FROM scratch\nMAINTAINER me\n', good: 'FROM scratch\nLABEL org.opencontainers.image.authors=me\n', detail: 'Maintainer instruction is deprecated in favor of using label' },
  { rule: 'UndefinedArgInFrom', bad: 'ARG VERSION=1\nFROM busybox:${VERSON}\n', good: 'ARG VERSION=1\nFROM busybox:${VERSION}\n', detail: "FROM argument 'VERSON' is not declared (did you mean VERSION?)" },
  { rule: 'WorkdirRelativePath', bad: 'FROM scratch\nWORKDIR app\n', good: 'FROM scratch\nWORKDIR /app\nWORKDIR sub\n', detail: 'Relative workdir "app" can have unexpected results if the base image changes' },
  { rule: 'UndefinedVar', bad: 'FROM scratch\nARG DIR=/x\nCOPY a $DIRR/a\n', good: 'FROM scratch\nARG DIR=/x\nCOPY a $DIR/a\n', detail: "Usage of undefined variable '$DIRR' (did you mean $DIR?)", line: 3 },
  {
    rule: 'MultipleInstructionsDisallowed',
    bad: 'FROM scratch\nCMD ["a"]\nCMD ["b"]\n',
    good: 'FROM scratch AS one\nCMD ["a"]\nFROM scratch\nCMD ["b"]\n',
    detail: 'Multiple CMD instructions should not be used in the same stage because only the last one will be used',
    line: 2,
  },
  { rule: 'LegacyKeyValueFormat', bad: 'FROM scratch\nENV A 1\n', good: 'FROM scratch\nENV A=1\n', detail: '"ENV key=value" should be used instead of legacy "ENV key value" format' },
  {
    rule: 'InvalidBaseImagePlatform',
    bad: 'FROM busybox\n',
    good: 'FROM busybox\n',
    detail: 'Base image busybox was pulled with platform "linux/arm64", expected "linux/amd64" for current build',
  },
  {
    rule: 'RedundantTargetPlatform',
    bad: 'FROM --platform=$TARGETPLATFORM scratch\n',
    good: 'FROM --platform=$BUILDPLATFORM scratch\n',
    detail: 'Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior',
  },
  { rule: 'SecretsUsedInArgOrEnv', bad: 'FROM scratch\nARG GITHUB_TOKEN\n', good: 'FROM scratch\nARG PUBLIC_KEY\nENV TOKENIZER=x\n', detail: 'Do not use ARG or ENV instructions for sensitive data (ARG "GITHUB_TOKEN")' },
  { rule: 'InvalidDefaultArgInFrom', bad: 'ARG TAG\nFROM busybox:${TAG}\n', good: 'ARG TAG=1\nFROM busybox:${TAG}\n', detail: 'Default value for ARG busybox:${TAG} results in empty or invalid base image name' },
  {
    rule: 'FromPlatformFlagConstDisallowed',
    bad: 'FROM --platform=linux/amd64 scratch AS build\n',
    good: 'FROM --platform=linux/amd64 scratch AS build-amd64\n',
    detail: 'FROM --platform flag should not use constant value "linux/amd64"',
  },
  {
    rule: 'CopyIgnoredFile',
    bad: 'FROM scratch\nCOPY secret.txt /\n',
    good: 'FROM scratch\nCOPY public.txt /\n',
    detail: 'Attempting to Copy file "secret.txt" that is excluded by .dockerignore',
    extra: { ignore: parseDockerignore('secret.txt\n') },
  },
  {
    rule: 'InvalidDefinitionDescription',
    bad: '# check=experimental=InvalidDefinitionDescription\n# the base image version\nARG VERSION=1\nFROM scratch\n',
    good: '# check=experimental=InvalidDefinitionDescription\n# VERSION the base image version\nARG VERSION=1\nFROM scratch\n',
    detail: 'Comment for ARG should follow the format: `# VERSION <description>`',
    line: 3,
  },
  { rule: 'ExposeProtoCasing', bad: 'FROM scratch\nEXPOSE 80/TCP\n', good: 'FROM scratch\nEXPOSE 80/tcp\n', detail: "Defined protocol '80/TCP' in EXPOSE instruction should be lowercase" },
  {
    rule: 'ExposeInvalidFormat',
    bad: 'FROM scratch\nEXPOSE 127.0.0.1:8080:80\n',
    good: 'FROM scratch\nEXPOSE 80\n',
    detail: "EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:8080:80'",
  },
];

test('every rule of BuildKit has a case here', () => {
  assert.deepEqual(cases.map((c) => c.rule).sort(), [...RULE_NAMES].sort());
});

for (const c of cases) {
  test(`${c.rule}: the bad Dockerfile warns, the good one does not`, async () => {
    const extraBad = c.rule === 'InvalidBaseImagePlatform' ? image({ architecture: 'arm64' }) : c.extra;
    const extraGood = c.rule === 'InvalidBaseImagePlatform' ? image({}) : c.extra;
    const bad = (await check(c.bad, extraBad)).warnings.filter((w) => w.rule === c.rule);
    assert.equal(bad.length, 1, `${c.rule} on:\n${c.bad}`);
    if (c.detail) assert.equal(bad[0].detail, c.detail);
    assert.equal(bad[0].where?.start.line, c.line ?? c.bad.trimEnd().split('\n').length);
    assert.deepEqual(await rules(c.good, extraGood), [], `nothing on:\n${c.good}`);
  });
}

test('every warning carries its rule description and doc URL', async () => {
  const [w] = (await check('FROM scratch\nCMD run\n')).warnings;
  assert.equal(w.description, 'JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals');
  assert.equal(w.url, 'https://docs.docker.com/go/dockerfile/rule/json-args-recommended/');
});

test('UndefinedVar knows the base image env, ENV, declared ARGs and the parent stage', async () => {
  const df = 'FROM busybox AS base\nENV APP=/app\nFROM base\nARG EMPTY\nWORKDIR $APP$HOME$EMPTY\nCOPY a $UNKNOWNVAR/\n';
  const w = (await check(df, image({ env: ['HOME=/root'] }))).warnings;
  assert.deepEqual(w.map((x) => `${x.rule} ${x.detail}`), ["UndefinedVar Usage of undefined variable '$UNKNOWNVAR'"]);
});

test('a stage built FROM another inherits its declared ARGs and its WORKDIR being set', async () => {
  const df = 'FROM scratch AS base\nARG OPT\nWORKDIR /app\nFROM base\nWORKDIR sub\nCOPY a /$OPT\n';
  assert.deepEqual(await rules(df), []);
});

test('# check=skip=… turns rules off, error=true makes a warning fail', async () => {
  const df = 'FROM scratch AS Build\nCMD run\n';
  assert.deepEqual(await rules(`# check=skip=StageNameCasing\n${df}`), ['JSONArgsRecommended']);
  assert.deepEqual(await rules(`# check=skip=StageNameCasing,JSONArgsRecommended\n${df}`), []);
  assert.deepEqual(await rules(`# check=skip=all\n${df}`), []);
  const r = await check(`# check=error=true\n${df}`);
  assert.equal(r.error, true);
  assert.equal((await check(`# check=error=true\nFROM scratch\nCMD ["run"]\n`)).error, false);
});

test('the BUILDKIT_DOCKERFILE_CHECK build arg replaces the directive', async () => {
  const df = '# check=skip=JSONArgsRecommended\nFROM scratch AS Build\nCMD run\n';
  const r = await check(df, { buildArgs: new Map([['BUILDKIT_DOCKERFILE_CHECK', 'skip=StageNameCasing;error=true']]) });
  assert.deepEqual(r.warnings.map((w) => w.rule), ['JSONArgsRecommended']);
  assert.equal(r.error, true);
});

test('a # check= comment above one instruction skips a rule there only', async () => {
  const df = 'FROM scratch\n# check=skip=JSONArgsRecommended\nCMD run\nENTRYPOINT run\n';
  const w = (await check(df)).warnings;
  assert.deepEqual(w.map((x) => `${x.rule}:${x.where?.start.line}`), ['JSONArgsRecommended:4']);
});

test('a malformed check setting is one clear error', async () => {
  await assert.rejects(check('# check=skip=A;bogus=1\nFROM scratch\n'), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'bad-check-option');
    assert.match(e.message, /invalid check option "bogus"/);
    return true;
  });
  await assert.rejects(check('# check=error=maybe\nFROM scratch\n'), /invalid boolean "maybe"/);
});

test('only the stages the build dispatches get the instruction checks', async () => {
  const df = 'FROM scratch AS unused\nCMD run\nFROM scratch AS dep\nWORKDIR rel\nFROM scratch AS app\nCOPY --from=dep / /\nCMD ["ok"]\n';
  assert.deepEqual(await rules(df, { stages: new Set([2]) }), []);
  assert.deepEqual(await rules(df), ['JSONArgsRecommended', 'WorkdirRelativePath']);
  // A target without a plan (`--check --target`): that stage and what it copies from.
  assert.deepEqual(await rules(df, { target: 'app' }), ['WorkdirRelativePath']);
  await assert.rejects(rules(df, { target: 'nope' }), /nope/);
});
