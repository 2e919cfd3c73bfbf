import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../common/index.js';
import { expandInstruction, parseRaw, typeInstructions, type Instruction } from '../../parser/index.js';

const env = { V: 'val', P: '8080 9090', EMPTY: '' };

function expanded(line: string, escape = '\\'): Instruction {
  const [, ins] = typeInstructions(parseRaw(`FROM a\n${line}\n`));
  return expandInstruction(ins, env, escape).instruction;
}

const rows: { name: string; line: string; want: Record<string, unknown> }[] = [
  { name: 'ENV keys and values are expanded, quotes removed', line: 'ENV K_$V="a $V" L=\'$V\'', want: { pairs: [{ key: 'K_val', value: 'a val' }, { key: 'L', value: '$V' }] } },
  { name: 'legacy ENV value is expanded too', line: 'ENV K "x $V"', want: { pairs: [{ key: 'K', value: 'x val' }] } },
  { name: 'LABEL is expanded', line: 'LABEL l=$V', want: { pairs: [{ key: 'l', value: 'val' }] } },
  { name: 'COPY sources, dest, --from, --chown, --chmod are expanded', line: 'COPY --from=$V --chown=$V --chmod=$V src/$V /dst/$V', want: { sources: ['src/val'], dest: '/dst/val', from: 'val', chown: 'val', chmod: 'val' } },
  { name: 'WORKDIR is expanded', line: 'WORKDIR /w/${V}', want: { path: '/w/val' } },
  { name: 'USER is expanded', line: 'USER ${V:-x}', want: { user: 'val' } },
  { name: 'STOPSIGNAL is expanded', line: 'STOPSIGNAL $V', want: { signal: 'val' } },
  { name: 'EXPOSE expands and splits into words', line: 'EXPOSE $P', want: { ports: ['8080', '9090'] } },
  { name: 'VOLUME is expanded', line: 'VOLUME /v/$V', want: { paths: ['/v/val'] } },
  { name: 'RUN is not expanded (the shell does it)', line: 'RUN echo $V', want: { command: { form: 'shell', script: 'echo $V', heredocs: [] } } },
  { name: 'CMD exec form is not expanded', line: 'CMD ["echo", "$V"]', want: { command: { form: 'exec', argv: ['echo', '$V'] } } },
  { name: 'RUN --mount values are expanded', line: 'RUN --mount=type=cache,target=/c/$V make', want: { mounts: [{ type: 'cache', options: { type: 'cache', target: '/c/val' }, spec: 'type=cache,target=/c/$V' }] } },
  { name: 'ONBUILD is not expanded', line: 'ONBUILD RUN echo $V', want: { expression: 'RUN echo $V' } },
];

for (const r of rows) {
  test(`expandInstruction: ${r.name}`, () => {
    const ins = expanded(r.line) as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(r.want)) assert.deepEqual(ins[k], v, k);
  });
}

test('expandInstruction reports the variables it used', () => {
  const [, ins] = typeInstructions(parseRaw('FROM a\nWORKDIR /$V/$UNSET\n'));
  assert.deepEqual([...expandInstruction(ins, env, '\\').used], ['V']);
});

test('a bad substitution is a UserError at the instruction', () => {
  assert.throws(() => expanded('WORKDIR ${V'), (e: unknown) => e instanceof UserError && e.code === 'bad-substitution' && typeof e.where === 'object' && e.where.start.line === 2);
});

test('VOLUME that expands to nothing is rejected', () => {
  assert.throws(() => expanded('VOLUME $EMPTY'), (e: unknown) => e instanceof UserError && e.code === 'empty-volume');
});
