import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserErrors } from '../../common/index.js';
import { parseRaw, typeInstructions } from '../../parser/index.js';

// Issue 23 item 6: text after an exec form's JSON array. BuildKit's parseJSON
// (frontend/dockerfile/parser/line_parsers.go, moby/buildkit 73ed6825) reads the argument
// text with json.Unmarshal, which refuses anything but JSON white space after the value; the
// line is then not JSON, so RUN/CMD/ENTRYPOINT/SHELL keep it whole as a shell form and
// COPY/ADD/VOLUME split it at white space. Before moby/buildkit 80518e257 ("dockerfile: fix
// invalid usage of json.NewDecoder", dockerfile frontend 1.9.0) a json.Decoder read the
// first value and dropped the rest, which is what older Docker versions show.
// BuildKit's testInvalidJSONCommands (frontend/dockerfile/dockerfile_cmd_test.go) pins the
// current rule: `ENTRYPOINT []random string` gives ["/bin/sh", "-c", "[]random string"].

function only(line: string) {
  const raw = parseRaw(`FROM a\n${line}\n`);
  return { raw: raw.instructions[1], typed: typeInstructions(raw)[1] };
}

const cases: { name: string; line: string; json: boolean; args: string[] }[] = [
  { name: 'a comment after ENTRYPOINT\'s array (the issue\'s line)', line: 'ENTRYPOINT ["myentrypoint"] # comment', json: false, args: ['["myentrypoint"] # comment'] },
  { name: 'words right after the array (BuildKit\'s RUN case)', line: 'RUN ["echo", "hello"]this is invalid', json: false, args: ['["echo", "hello"]this is invalid'] },
  { name: 'words after an empty array (BuildKit\'s ENTRYPOINT case)', line: 'ENTRYPOINT []random string', json: false, args: ['[]random string'] },
  { name: 'a second array', line: 'CMD ["a"] ["b"]', json: false, args: ['["a"] ["b"]'] },
  { name: 'a lone comma', line: 'CMD ["a"],', json: false, args: ['["a"],'] },
  { name: 'a non-string element followed by text: the syntax error wins, so no JSON error', line: 'CMD ["a", 1] x', json: false, args: ['["a", 1] x'] },
  { name: 'COPY splits the line at white space', line: 'COPY ["a", "b"] c', json: false, args: ['["a",', '"b"]', 'c'] },
  { name: 'VOLUME splits the line at white space', line: 'VOLUME ["/v"] # data', json: false, args: ['["/v"]', '#', 'data'] },
  { name: 'HEALTHCHECK CMD takes CMD\'s rule', line: 'HEALTHCHECK CMD ["true"] # probe', json: false, args: ['CMD', '["true"] # probe'] },
  { name: 'trailing spaces and tabs are white space: exec form', line: 'ENTRYPOINT ["myentrypoint"] \t ', json: true, args: ['myentrypoint'] },
  { name: 'white space inside the array is JSON white space', line: 'CMD [ "a" ,\t"b" ]', json: true, args: ['a', 'b'] },
];

for (const c of cases) {
  test(`JSON then trailing text: ${c.name}`, () => {
    const { raw } = only(c.line);
    assert.equal(raw.json, c.json);
    assert.deepEqual(raw.args, c.args);
  });
}

test('ENTRYPOINT ["myentrypoint"] # comment types as a shell-form entrypoint', () => {
  const { typed } = only('ENTRYPOINT ["myentrypoint"] # comment');
  assert.equal(typed.kind, 'entrypoint');
  assert.deepEqual(typed.kind === 'entrypoint' && typed.command, { form: 'shell', script: '["myentrypoint"] # comment', heredocs: [] });
});

test('SHELL with text after its array is refused as not JSON', () => {
  assert.throws(
    () => typeInstructions(parseRaw('FROM a\nSHELL ["/bin/sh", "-c"] # posix\n')),
    (e: unknown) => e instanceof UserErrors && e.errors[0].code === 'shell-not-json' && typeof e.errors[0].where === 'object' && e.errors[0].where.start.line === 2,
  );
});

test('a non-string element with nothing after the array is still an error', () => {
  assert.throws(
    () => parseRaw('FROM a\nCMD ["a", 1]  \n'),
    (e: unknown) => e instanceof UserErrors && e.errors[0].code === 'json-not-strings',
  );
});
