import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRaw, typeInstructions } from '../../parser/index.js';
import { ConfigEditor, applyConfigEdit, planBuild, type ConfigEdit, type PlanOptions } from '../../planner/index.js';
import type { ContainerConfig } from '../../store/index.js';

// The editor a stage applies its steps with changes its own copy in place (issue 16: a
// Dockerfile of 10,000 LABELs copied its labels 10,000 times); what it builds must be what
// the one-edit-at-a-time applyConfigEdit builds, and the config it started from stays as it was.

const base: ContainerConfig = {
  Env: ['PATH=/bin', 'A=1', 'A=shadowed', 'NOVALUE'],
  Labels: { keep: 'k' },
  ExposedPorts: { '80/tcp': {} },
  OnBuild: ['RUN x'],
};

const edits: ConfigEdit[] = [
  { field: 'Env', set: [['A', '2'], ['B', 'b'], ['NOVALUE', 'now']] },
  { field: 'Labels', set: [['keep', 'changed'], ['new', 'n']] },
  { field: 'ExposedPorts', add: ['443/tcp'] },
  { field: 'Volumes', add: ['/data'] },
  { field: 'OnBuild', add: ['RUN y'] },
  { field: 'Env', set: [['B', 'b2']] },
  { field: 'Cmd', value: ['sh'] },
  { field: 'WorkingDir', value: '/w' },
];

test('the config editor builds what applying each edit to a new object builds', () => {
  const before = structuredClone(base);
  let folded = base;
  for (const e of edits) folded = applyConfigEdit(folded, e);
  const editor = new ConfigEditor(base);
  for (const e of edits) editor.apply(e);
  assert.deepEqual(editor.config, folded);
  assert.deepEqual(editor.config.Env, ['PATH=/bin', 'A=2', 'A=shadowed', 'NOVALUE=now', 'B=b2'], 'the first entry of a name is the one replaced');
  assert.deepEqual(base, before, 'the base config is not changed');
});

test('an editor started from an edited config does not change its source', () => {
  const first = new ConfigEditor({});
  first.apply({ field: 'Labels', set: [['a', '1']] });
  const second = new ConfigEditor(first.config);
  second.apply({ field: 'Labels', set: [['a', '2'], ['b', '2']] });
  assert.deepEqual(first.config.Labels, { a: '1' });
  assert.deepEqual(second.config.Labels, { a: '2', b: '2' });
});

const planOptions: PlanOptions = {
  buildArgs: new Map([['FROMCLI', 'cli']]),
  platform: { os: 'linux', architecture: 'amd64' },
  escape: '\\',
  file: 'Dockerfile',
  network: 'default',
  entitlements: new Set(),
  resolveImage: () => Promise.reject(new Error('no images in this test')),
  hashContext: () => Promise.reject(new Error('no context in this test')),
  resolveRemote: () => Promise.reject(new Error('no remote sources in this test')),
};

async function labelsOf(dockerfile: string): Promise<Record<string, string>> {
  const plan = await planBuild(typeInstructions(parseRaw(dockerfile, 'Dockerfile')), planOptions);
  return plan.stages[plan.target].finalConfig.Labels ?? {};
}

test('ARG and ENV seen by later words as the stage goes: ENV hides an ARG of its name, before or after it', async () => {
  const labels = await labelsOf(`FROM scratch
ARG X=arg
LABEL one=$X
ENV X=env
LABEL two=$X
ARG X=again
LABEL three=$X
ARG Y
LABEL four=[$Y]
ARG Y=y
LABEL five=$Y
ARG FROMCLI=default
LABEL six=$FROMCLI
ENV Y=$Y-env Z=$Y
LABEL seven=$Y/$Z
`);
  assert.deepEqual(labels, { one: 'arg', two: 'env', three: 'env', four: '[]', five: 'y', six: 'cli', seven: 'y-env/y' });
});

test('a child stage continues from its parent without changing the parent', async () => {
  const plan = await planBuild(
    typeInstructions(parseRaw('FROM scratch AS p\nLABEL a=1\nENV E=1\nFROM p\nLABEL a=2 b=2\nENV E=2\n', 'Dockerfile')),
    planOptions,
  );
  assert.deepEqual(plan.stages[0].finalConfig.Labels, { a: '1' });
  assert.deepEqual(plan.stages[0].finalConfig.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'E=1']);
  assert.deepEqual(plan.stages[1].finalConfig.Labels, { a: '2', b: '2' });
  assert.deepEqual(plan.stages[1].finalConfig.Env?.slice(1), ['E=2']);
});
