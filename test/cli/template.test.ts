import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../common/index.js';
import { renderRows, tabwrite } from '../../cli/format-option.js';
import { TemplateError, compileTemplate } from '../../cli/template.js';

// Go's text/template as Docker users type it: the outputs below are what `go run` of
// text/template gives for the same template and data (maps print sorted, %v of slices
// is [a b], a missing map key is <no value>, json escapes <>&).
const data = {
  ID: 'abc123',
  Size: '13.4kB',
  Config: { Cmd: ['sh', '-c', 'exit 3'], Env: ['A=1', 'B=2'], Labels: { b: '2', a: '1' }, Empty: [], Entrypoint: null },
  State: { Running: true, ExitCode: 0, Pid: 42 },
  Names: 'web',
  Html: '<a&b>',
};

const cases: { name: string; template: string; want: string; missingKey?: 'error' | 'zero' }[] = [
  { name: 'a field', template: '{{.ID}}', want: 'abc123' },
  { name: 'text around fields and a tab', template: '{{.ID}}\t{{.Size}}', want: 'abc123\t13.4kB' },
  { name: 'nested fields', template: '{{.State.Pid}} {{.State.Running}}', want: '42 true' },
  { name: 'a slice prints as [a b]', template: '{{.Config.Cmd}}', want: '[sh -c exit 3]' },
  { name: 'a map prints sorted as map[k:v]', template: '{{.Config.Labels}}', want: 'map[a:1 b:2]' },
  { name: 'json of a value', template: '{{json .Config.Cmd}}', want: '["sh","-c","exit 3"]' },
  { name: 'json escapes <, > and & as Go does', template: '{{json .Html}}', want: '"\\u003ca\\u0026b\\u003e"' },
  { name: 'json of null', template: '{{json .Config.Entrypoint}}', want: 'null' },
  { name: 'range over a slice', template: '{{range .Config.Env}}[{{.}}]{{end}}', want: '[A=1][B=2]' },
  { name: 'range with key and value over a map', template: '{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}', want: 'a=1;b=2;' },
  { name: 'range else on an empty slice', template: '{{range .Config.Empty}}x{{else}}none{{end}}', want: 'none' },
  { name: 'root variable inside range', template: '{{range .Config.Env}}{{$.ID}} {{end}}', want: 'abc123 abc123 ' },
  { name: 'index of a slice', template: '{{index .Config.Cmd 2}}', want: 'exit 3' },
  { name: 'index of a map', template: '{{index .Config.Labels "b"}}', want: '2' },
  { name: 'if / else', template: '{{if .State.Running}}up{{else}}down{{end}}', want: 'up' },
  { name: 'else if', template: '{{if .State.ExitCode}}bad{{else if .State.Running}}running{{end}}', want: 'running' },
  { name: 'with sets dot', template: '{{with .State}}{{.Pid}}{{end}}', want: '42' },
  { name: 'pipeline into a function', template: '{{.Names | upper}}', want: 'WEB' },
  { name: 'join and split', template: '{{join .Config.Cmd ","}} {{index (split "a:b" ":") 1}}', want: 'sh,-c,exit 3 b' },
  { name: 'printf', template: '{{printf "%s=%d %q" .Names .State.Pid .ID}}', want: 'web=42 "abc123"' },
  { name: 'len, eq, not', template: '{{len .Config.Cmd}} {{eq .Names "web"}} {{not .State.Running}}', want: '3 true false' },
  { name: 'trim markers', template: 'a  {{- .ID -}}  b', want: 'aabc123b' },
  { name: 'title, lower, truncate, pad', template: '{{title "hello world"}} {{lower "AB"}} {{truncate .ID 3}} [{{pad "x" 1 2}}]', want: 'Hello World ab abc [ x  ]' },
  { name: 'variables', template: '{{$n := .Names}}{{$n}}!', want: 'web!' },
  { name: 'a missing key of a map with missingKey zero', template: '{{.Config.Nope}}', want: '<no value>', missingKey: 'zero' },
  { name: 'a comment', template: 'x{{/* not printed */}}y', want: 'xy' },
];

for (const c of cases) {
  test(`template: ${c.name}`, () => {
    assert.equal(compileTemplate(c.template, { missingKey: c.missingKey ?? 'error' }).execute(data), c.want);
  });
}

const mistakes: { name: string; template: string; message: RegExp; at?: 'parse' | 'exec' }[] = [
  { name: 'an unclosed action', template: '{{.ID', message: /unclosed action/ },
  { name: 'an unknown function', template: '{{nope .ID}}', message: /function "nope" not defined/ },
  { name: 'a range without end', template: '{{range .Config.Env}}x', message: /unexpected EOF/ },
  { name: 'a stray end', template: 'x{{end}}', message: /unexpected \{\{end\}\}/ },
  { name: 'a field a struct-like row lacks', template: '{{.Nope}}', message: /can't evaluate field Nope/, at: 'exec' },
  { name: 'index out of range', template: '{{index .Config.Cmd 9}}', message: /index out of range: 9/, at: 'exec' },
  { name: 'an undefined variable', template: '{{$x}}', message: /undefined variable "\$x"/, at: 'exec' },
];
for (const m of mistakes) {
  test(`template mistake: ${m.name} is one TemplateError`, () => {
    assert.throws(() => compileTemplate(m.template, { missingKey: 'error' }).execute(data), (e: unknown) => {
      assert.ok(e instanceof TemplateError);
      assert.match(e.message, m.message);
      assert.equal(e.message.split('\n').length, 1);
      return true;
    });
  });
}

// docker/cli cli/command/formatter/formatter.go: `table` → header row from the fields' titles,
// a tabwriter(minwidth 10, tabwidth 1, padding 3, ' '); `\t` typed literally is a tab.
test('table format: header titles and tabwriter alignment as docker images --format "table {{.ID}}\\t{{.Repository}}\\t{{.Tag}}"', () => {
  const rows = [
    { ID: '77af4d6b9913', Repository: '<none>', Tag: '<none>' },
    { ID: 'b6fa739cedf5', Repository: 'committ', Tag: 'latest' },
    { ID: '746b819f315e', Repository: 'postgres', Tag: '9.3.5' },
  ];
  const out = renderRows('table {{.ID}}\\t{{.Repository}}\\t{{.Tag}}', rows, {
    defaultTable: '',
    headers: { ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG' },
  });
  assert.equal(
    out,
    'IMAGE ID       REPOSITORY   TAG\n' + '77af4d6b9913   <none>       <none>\n' + 'b6fa739cedf5   committ      latest\n' + '746b819f315e   postgres     9.3.5\n',
  );
});

test('a format without table is one line per row, literal \\t a tab; json is {{json .}} with sorted keys', () => {
  const rows = [{ Size: '1B', ID: 'a' }, { Size: '2B', ID: 'b' }];
  const spec = { defaultTable: '{{.ID}}', headers: { ID: 'ID', Size: 'SIZE' } };
  assert.equal(renderRows('{{.ID}}\\t{{.Size}}', rows, spec), 'a\t1B\nb\t2B\n');
  assert.equal(renderRows('json', rows, spec), '{"ID":"a","Size":"1B"}\n{"ID":"b","Size":"2B"}\n');
  assert.equal(renderRows('table', rows, spec), 'ID\na\nb\n');
  assert.equal(renderRows('table {{json .}}', rows, spec), '\n{"ID":"a","Size":"1B"}\n{"ID":"b","Size":"2B"}\n', 'json in the header row is empty (HeaderFunctions)');
  assert.throws(() => renderRows('{{.Nope}}', rows, spec), (e: unknown) => e instanceof UserError && e.exitCode === 2 && /can't evaluate field Nope/.test(e.message));
});

test('tabwrite pads every tab-ended cell to the widest + 3, at least 10', () => {
  const want = 'a' + ' '.repeat(17) + 'bb' + ' '.repeat(8) + 'c\n' + 'longer-than-ten' + ' '.repeat(3) + 'x' + ' '.repeat(9) + 'y\n';
  assert.equal(tabwrite('a\tbb\tc\nlonger-than-ten\tx\ty\n'), want);
});
