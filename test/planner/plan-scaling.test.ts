import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRaw, typeInstructions } from '../../parser/index.js';
import { planBuild, planWork, type PlanOptions } from '../../planner/index.js';

// Issue 22: parse+plan of a 10,000-line Dockerfile mixing ARG, ENV and RUN took minutes: each
// RUN looked every ARG up in the whole Env list (args × env per RUN, cubic in the file). A RUN
// inherently carries every ARG and ENV so far (its environment, its `RUN |N k=v` history text,
// BuildKit's dockerfile2llb dispatchRun does the same), so the planner's visits may grow with
// that (quadratic in the file), never beyond: doubling the file must at most quadruple them.
// Counted, not timed (planner/work-meter.ts).

const opts: PlanOptions = {
  buildArgs: new Map(),
  platform: { os: 'linux', architecture: 'amd64' },
  escape: '\\',
  file: 'Dockerfile',
  network: 'default',
  entitlements: new Set(),
  resolveImage: () => Promise.reject(new Error('test: FROM scratch needs no image')),
  hashContext: () => Promise.reject(new Error('test: no COPY here')),
  resolveRemote: () => Promise.reject(new Error('test: no ADD of a URL here')),
};

async function visitsFor(lines: (i: number) => string[], n: number): Promise<number> {
  const text = ['FROM scratch', ...Array.from({ length: n }, (_, i) => lines(i)).flat()].join('\n') + '\n';
  const before = planWork.visits;
  const plan = await planBuild(typeInstructions(parseRaw(text, 'Dockerfile')), opts);
  assert.ok(plan.stages[0].steps.length > 0);
  return planWork.visits - before;
}

const cases = [
  { name: 'ARG, ENV and RUN lines: a RUN walks the args once, not once per Env entry', lines: (i: number) => [`ARG a${i}=${i}`, `ENV e${i}=v${i}`, `RUN echo ${i}`], most: 4.4 },
  { name: 'ARG and LABEL lines with no RUN: no per-instruction walk at all', lines: (i: number) => [`ARG a${i}=${i}`, `LABEL k${i}=v${i}`, `ENV e${i}=v${i}`], most: 2.2 },
];
for (const c of cases) {
  test(`plan work: ${c.name}`, async () => {
    const small = await visitsFor(c.lines, 300);
    const large = await visitsFor(c.lines, 600);
    assert.ok(large <= c.most * Math.max(small, 1), `planning 600 groups visited ${large} entries, 300 groups ${small}: more than ${c.most}×`);
  });
}

test('plan work: a RUN still sees every ARG not hidden by an ENV of the same name', async () => {
  const text = 'FROM scratch\nARG A=1\nARG B=2\nENV B=env\nRUN true\n';
  const plan = await planBuild(typeInstructions(parseRaw(text, 'Dockerfile')), opts);
  const run = plan.stages[0].steps.find((s) => s.op === 'exec');
  assert.ok(run && run.op === 'exec');
  assert.deepEqual(run.env.filter((e) => /^[AB]=/.test(e)), ['B=env', 'A=1']);
  assert.match(run.createdBy, /^RUN \|1 A=1 /);
});
