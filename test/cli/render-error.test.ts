import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError, type SourceRange } from '../../common/index.js';
import { renderError } from '../../cli/render-error.js';

const source = 'FROM debian:12\nRUNN apt-get update\n\n\tCOPY a b\n';
const sources = new Map([['Dockerfile', source]]);
const at = (line: number, column: number, endColumn: number, endLine = line): SourceRange => ({
  file: 'Dockerfile',
  start: { line, column, offset: -1 },
  end: { line: endLine, column: endColumn, offset: -1 },
});

test('a source range prints file:line:col, the previous and offending lines, a caret line and the hint', () => {
  const err = new UserError('unknown-instruction', 'unknown instruction "RUNN"', { where: at(2, 1, 5), hint: 'did you mean RUN?' });
  assert.equal(
    renderError(err, sources),
    [
      'Dockerfile:2:1: error[unknown-instruction]: unknown instruction "RUNN"',
      '   1 | FROM debian:12',
      '   2 | RUNN apt-get update',
      '     | ^^^^',
      '  hint: did you mean RUN?',
    ].join('\n'),
  );
});

test('a blank previous line is left out; tabs are kept under the caret so it lines up', () => {
  const err = new UserError('unknown-flag', 'x', { where: at(4, 2, 6) });
  assert.equal(renderError(err, sources), ['Dockerfile:4:2: error[unknown-flag]: x', '   4 | \tCOPY a b', '     | \t^^^^'].join('\n'));
});

test('a range over several lines is underlined to the end of its first line', () => {
  const err = new UserError('c', 'm', { where: at(2, 6, 3, 4) });
  assert.equal(renderError(err, sources).split('\n')[3], '     |      ^^^^^^^^^^^^^^');
});

test('detail lines are indented under the snippet', () => {
  const err = new UserError('run-failed', 'RUN exited with code 127', { where: at(2, 1, 20), detail: '/bin/sh: 1: x: not found\n' });
  assert.deepEqual(renderError(err, sources).split('\n').slice(-1), ['  /bin/sh: 1: x: not found']);
});

test('without the source text only the header line is printed', () => {
  const err = new UserError('c', 'm', { where: { ...at(2, 1, 2), file: 'other/Dockerfile' } });
  assert.equal(renderError(err, sources), 'other/Dockerfile:2:1: error[c]: m');
});

test('an object name is appended unless the message names it already', () => {
  assert.equal(renderError(new UserError('image-unknown', 'no such image', { where: 'debian:12' }), sources), 'error[image-unknown]: no such image (debian:12)');
  assert.equal(renderError(new UserError('image-unknown', 'no such image: debian:12', { where: 'debian:12' }), sources), 'error[image-unknown]: no such image: debian:12');
});

test('no location: just the code and message', () => {
  assert.equal(renderError(new UserError('usage', 'bad flag', { hint: 'see --help' }), sources), 'error[usage]: bad flag\n  hint: see --help');
});
