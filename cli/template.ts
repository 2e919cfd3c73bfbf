/**
 * The Go text/template subset Docker users type after `--format`: `{{.Field.Sub}}`, `{{.}}`,
 * `{{json .}}`, pipelines (`{{.Names | upper}}`), `{{range}}` (with `$k, $v :=`), `{{if}}`
 * / `{{else}}`, `{{with}}`, variables, `{{index}}`, `{{printf}}`, comparison and Docker's own
 * functions (json, join, split, lower, upper, title, pad, truncate). Values print as Go's
 * %v does (`[a b]`, `map[k:v]`, `<no value>`). Mistakes are TemplateErrors of one line.
 * No library: the npm ports of text/template are unmaintained or differ in these details.
 */

export class TemplateError extends Error {}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipe }
  | { kind: 'if' | 'with'; pipe: Pipe; then: Node[]; else: Node[] }
  | { kind: 'range'; pipe: Pipe; then: Node[]; else: Node[] };

interface Pipe {
  decl: string[];
  cmds: Operand[][];
  /** Position for messages: the action's text. */
  src: string;
}

type Operand =
  | { kind: 'field'; base: '.' | string; path: string[] }
  | { kind: 'lit'; value: unknown }
  | { kind: 'fn'; name: string }
  | { kind: 'sub'; pipe: Pipe };

export interface TemplateOptions {
  /** What `.Missing` gives: an error (Docker's formatter contexts are structs) or `<no value>` (inspect's maps). */
  missingKey: 'error' | 'zero';
  /** Functions over the built-ins (the table header's identities). */
  funcs?: Record<string, (...args: unknown[]) => unknown>;
}

// ---- lexing and parsing -------------------------------------------------------------

function splitActions(src: string): ({ text: string } | { action: string })[] {
  const out: ({ text: string } | { action: string })[] = [];
  let at = 0;
  while (at < src.length) {
    const open = src.indexOf('{{', at);
    if (open < 0) {
      out.push({ text: src.slice(at) });
      break;
    }
    let text = src.slice(at, open);
    let body = open + 2;
    if (src.startsWith('- ', body) || src.startsWith('-\t', body)) {
      text = text.replace(/\s+$/, '');
      body += 1;
    }
    const close = findClose(src, body);
    if (close < 0) throw new TemplateError('template parsing error: template: :1: unclosed action');
    let inner = src.slice(body, close);
    let next = close + 2;
    if (/\s-$/.test(inner)) {
      inner = inner.slice(0, -1);
      const m = /^\s*/.exec(src.slice(next))!;
      next += m[0].length;
    }
    if (text) out.push({ text });
    out.push({ action: inner.trim() });
    at = next;
  }
  return out;
}

/** The `}}` that closes an action, skipping string literals. */
function findClose(src: string, from: number): number {
  for (let i = from; i < src.length; i++) {
    const c = src[i];
    if (c === '"') {
      for (i++; i < src.length && src[i] !== '"'; i++) if (src[i] === '\\') i++;
    } else if (c === '`') {
      i = src.indexOf('`', i + 1);
      if (i < 0) return -1;
    } else if (src.startsWith('}}', i)) return i;
  }
  return -1;
}

function tokenize(action: string): string[] {
  const tokens: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|:=|\||\(|\)|,|[^\s|(),]+)/y;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < action.length && (m = re.exec(action))) {
    tokens.push(m[1]);
    at = re.lastIndex;
    if (/^\s*$/.test(action.slice(at))) break;
  }
  if (!/^\s*$/.test(action.slice(at))) throw new TemplateError(`template parsing error: template: :1: bad character in "${action}"`);
  return tokens;
}

function parseOperand(tok: string, src: string): Operand {
  if (tok === '.') return { kind: 'field', base: '.', path: [] };
  if (tok.startsWith('.')) return { kind: 'field', base: '.', path: tok.slice(1).split('.') };
  if (tok.startsWith('$')) {
    const [name, ...path] = tok.split('.');
    return { kind: 'field', base: name, path };
  }
  if (tok.startsWith('"')) {
    try {
      return { kind: 'lit', value: JSON.parse(tok) };
    } catch {
      throw new TemplateError(`template parsing error: template: :1: bad string ${tok} in "${src}"`);
    }
  }
  if (tok.startsWith('`')) return { kind: 'lit', value: tok.slice(1, -1) };
  if (/^-?\d+(\.\d+)?$/.test(tok)) return { kind: 'lit', value: Number(tok) };
  if (tok === 'true' || tok === 'false') return { kind: 'lit', value: tok === 'true' };
  if (tok === 'nil') return { kind: 'lit', value: null };
  if (/^[A-Za-z_]\w*$/.test(tok)) return { kind: 'fn', name: tok };
  throw new TemplateError(`template parsing error: template: :1: unexpected "${tok}" in operand`);
}

function parsePipe(tokens: string[], src: string): Pipe {
  let i = 0;
  const decl: string[] = [];
  const assign = tokens.indexOf(':=');
  if (assign > 0 && tokens.slice(0, assign).every((t) => t === ',' || t.startsWith('$'))) {
    decl.push(...tokens.slice(0, assign).filter((t) => t !== ','));
    i = assign + 1;
  }
  const parseCmds = (): { cmds: Operand[][] } => {
    const cmds: Operand[][] = [[]];
    while (i < tokens.length) {
      const t = tokens[i++];
      if (t === ')') {
        i--;
        break;
      }
      if (t === '|') {
        if (cmds[cmds.length - 1].length === 0) throw new TemplateError(`template parsing error: template: :1: missing command in "${src}"`);
        cmds.push([]);
      } else if (t === '(') {
        const inner = parseCmds();
        if (tokens[i++] !== ')') throw new TemplateError(`template parsing error: template: :1: unclosed left paren in "${src}"`);
        cmds[cmds.length - 1].push({ kind: 'sub', pipe: { decl: [], cmds: inner.cmds, src } });
      } else cmds[cmds.length - 1].push(parseOperand(t, src));
    }
    if (cmds[cmds.length - 1].length === 0) throw new TemplateError(`template parsing error: template: :1: missing value for command in "${src}"`);
    return { cmds };
  };
  const { cmds } = parseCmds();
  if (i < tokens.length) throw new TemplateError(`template parsing error: template: :1: unexpected ")" in "${src}"`);
  return { decl, cmds, src };
}

function parse(src: string): Node[] {
  const items = splitActions(src);
  let at = 0;
  const block = (inside: string | undefined): { nodes: Node[]; end: 'end' | 'else' | 'eof'; elseIf?: string } => {
    const nodes: Node[] = [];
    while (at < items.length) {
      const item = items[at++];
      if ('text' in item) {
        nodes.push({ kind: 'text', text: item.text });
        continue;
      }
      const a = item.action;
      if (a.startsWith('/*')) continue; // a comment
      const [word] = a.split(/\s+/, 1);
      if (word === 'end' || word === 'else') {
        if (!inside) throw new TemplateError(`template parsing error: template: :1: unexpected {{${word}}}`);
        return { nodes, end: word, elseIf: word === 'else' && a.length > 4 ? a.slice(4).trim() : undefined };
      }
      if (word === 'if' || word === 'with' || word === 'range') nodes.push(control(word, a.slice(word.length).trim()));
      else if (word === 'define' || word === 'template' || word === 'block') throw new TemplateError(`template parsing error: {{${word}}} is not supported`);
      else nodes.push({ kind: 'action', pipe: parsePipe(tokenize(a), a) });
    }
    if (inside) throw new TemplateError(`template parsing error: template: :1: unexpected EOF (an {{${inside}}} without {{end}})`);
    return { nodes, end: 'eof' };
  };
  const control = (word: 'if' | 'with' | 'range', rest: string): Node => {
    if (!rest) throw new TemplateError(`template parsing error: template: :1: missing value for ${word}`);
    const pipe = parsePipe(tokenize(rest), rest);
    const body = block(word);
    let elseNodes: Node[] = [];
    if (body.end === 'else') {
      if (body.elseIf !== undefined) {
        const m = /^(if|with)\s+(.*)$/.exec(body.elseIf);
        if (!m) throw new TemplateError(`template parsing error: template: :1: unexpected "${body.elseIf}" after else`);
        elseNodes = [controlChained(m[1] as 'if' | 'with', m[2])];
      } else {
        const rest2 = block(word);
        if (rest2.end !== 'end') throw new TemplateError('template parsing error: template: :1: expected end; found else');
        elseNodes = rest2.nodes;
      }
    }
    return { kind: word, pipe, then: body.nodes, else: elseNodes };
  };
  // `{{else if X}}` shares the outer {{end}}.
  const controlChained = (word: 'if' | 'with', rest: string): Node => control(word, rest);
  return block(undefined).nodes;
}

// ---- evaluation ----------------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** Go's %v. */
export function goPrint(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goPrint).join(' ')}]`;
  if (isObject(v))
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goPrint(v[k])}`)
      .join(' ')}]`;
  return String(v);
}

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

/** Go's json.Marshal: no spaces, and <, >, & escaped. */
function goJson(v: unknown): string {
  return (JSON.stringify(v === undefined ? null : v) ?? 'null').replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

function printf(format: unknown, ...args: unknown[]): string {
  let i = 0;
  return String(format).replace(/%([-+ 0#]*\d*(?:\.\d+)?)?([svdqtfx%])/g, (_m, _flags, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    switch (verb) {
      case 'q':
        return JSON.stringify(String(a));
      case 'd':
        return String(Math.trunc(Number(a)));
      case 'f':
        return Number(a).toFixed(6);
      case 'x':
        return typeof a === 'number' ? a.toString(16) : Buffer.from(String(a)).toString('hex');
      default:
        return goPrint(a);
    }
  });
}

const BUILTINS: Record<string, (...args: unknown[]) => unknown> = {
  json: (v) => goJson(v),
  join: (list, sep) => (Array.isArray(list) ? list.map(goPrint).join(String(sep)) : goPrint(list)),
  split: (s, sep) => String(s).split(String(sep)),
  lower: (s) => String(s).toLowerCase(),
  upper: (s) => String(s).toUpperCase(),
  title: (s) => String(s).replace(/(^|\s)(\S)/g, (_m, a: string, b: string) => a + b.toUpperCase()),
  pad: (s, left, right) => ' '.repeat(Number(left)) + String(s) + ' '.repeat(Number(right)),
  truncate: (s, n) => [...String(s)].slice(0, Number(n)).join(''),
  len: (v) => {
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (isObject(v)) return Object.keys(v).length;
    throw new TemplateError(`error calling len: len of type ${typeof v}`);
  },
  index: (v, ...keys) => {
    let cur = v;
    for (const k of keys) {
      if (Array.isArray(cur)) {
        const n = Number(k);
        if (!Number.isInteger(n) || n < 0 || n >= cur.length) throw new TemplateError(`error calling index: index out of range: ${goPrint(k)}`);
        cur = cur[n];
      } else if (isObject(cur)) cur = cur[String(k)];
      else throw new TemplateError(`error calling index: can't index item of type ${cur === null || cur === undefined ? 'nil' : typeof cur}`);
    }
    return cur;
  },
  printf,
  print: (...a) => a.map(goPrint).join(''),
  println: (...a) => a.map(goPrint).join(' ') + '\n',
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
  lt: (a, b) => (a as number) < (b as number),
  le: (a, b) => (a as number) <= (b as number),
  gt: (a, b) => (a as number) > (b as number),
  ge: (a, b) => (a as number) >= (b as number),
  not: (a) => !truthy(a),
  and: (...a) => a.find((x) => !truthy(x)) ?? a[a.length - 1],
  or: (...a) => a.find((x) => truthy(x)) ?? a[a.length - 1],
};

interface Scope {
  dot: unknown;
  vars: Map<string, unknown>;
}

class Evaluator {
  constructor(
    private readonly opts: TemplateOptions,
    private readonly funcs: Record<string, (...args: unknown[]) => unknown>,
  ) {}

  field(base: unknown, path: string[], src: string): unknown {
    let cur = base;
    for (const name of path) {
      if (isObject(cur) && Object.hasOwn(cur, name)) cur = cur[name];
      else if (isObject(cur) && this.opts.missingKey === 'zero') cur = undefined;
      else if ((cur === undefined || cur === null) && this.opts.missingKey === 'zero') return undefined;
      else throw new TemplateError(`template: :1: executing "" at <${src}>: can't evaluate field ${name}`);
    }
    return cur;
  }

  operand(o: Operand, scope: Scope, src: string): unknown {
    switch (o.kind) {
      case 'lit':
        return o.value;
      case 'sub':
        return this.pipe(o.pipe, scope);
      case 'fn':
        return this.call(o.name, [], src);
      case 'field': {
        let base: unknown = scope.dot;
        if (o.base !== '.') {
          if (!scope.vars.has(o.base)) throw new TemplateError(`template parsing error: template: :1: undefined variable "${o.base}"`);
          base = scope.vars.get(o.base);
        }
        return this.field(base, o.path, src);
      }
    }
  }

  call(name: string, args: unknown[], src: string): unknown {
    const fn = this.funcs[name];
    if (!fn) throw new TemplateError(`template parsing error: template: :1: function "${name}" not defined`);
    try {
      return fn(...args);
    } catch (e) {
      if (e instanceof TemplateError) throw new TemplateError(`template: :1: executing "" at <${src}>: ${e.message}`);
      throw e;
    }
  }

  pipe(p: Pipe, scope: Scope): unknown {
    let value: unknown;
    let first = true;
    for (const cmd of p.cmds) {
      const [head, ...rest] = cmd;
      const piped = first ? [] : [value];
      if (head.kind === 'fn') value = this.call(head.name, [...rest.map((o) => this.operand(o, scope, p.src)), ...piped], p.src);
      else {
        if (rest.length > 0 || !first) throw new TemplateError(`template: :1: executing "" at <${p.src}>: can't give argument to non-function`);
        value = this.operand(head, scope, p.src);
      }
      first = false;
    }
    return value;
  }

  nodes(nodes: Node[], scope: Scope, out: string[]): void {
    for (const n of nodes) {
      switch (n.kind) {
        case 'text':
          out.push(n.text);
          break;
        case 'action': {
          const v = this.pipe(n.pipe, scope);
          if (n.pipe.decl.length > 0) scope.vars.set(n.pipe.decl[0], v);
          else out.push(goPrint(v));
          break;
        }
        case 'if':
        case 'with': {
          const v = this.pipe(n.pipe, scope);
          if (truthy(v)) this.nodes(n.then, n.kind === 'with' ? { dot: v, vars: new Map(scope.vars) } : scope, out);
          else this.nodes(n.else, scope, out);
          break;
        }
        case 'range': {
          const v = this.pipe(n.pipe, scope);
          const entries: [unknown, unknown][] = Array.isArray(v)
            ? v.map((x, i) => [i, x])
            : isObject(v)
              ? Object.keys(v)
                  .sort()
                  .map((k) => [k, v[k]])
              : v === undefined || v === null
                ? []
                : (() => {
                    throw new TemplateError(`template: :1: range can't iterate over ${goPrint(v)}`);
                  })();
          if (entries.length === 0) this.nodes(n.else, scope, out);
          for (const [k, x] of entries) {
            const vars = new Map(scope.vars);
            if (n.pipe.decl.length === 1) vars.set(n.pipe.decl[0], x);
            if (n.pipe.decl.length === 2) vars.set(n.pipe.decl[0], k).set(n.pipe.decl[1], x);
            this.nodes(n.then, { dot: x, vars }, out);
          }
          break;
        }
      }
    }
  }
}

export interface Template {
  execute(data: unknown): string;
}

/** Parse once (errors now), execute per row. */
export function compileTemplate(src: string, opts: TemplateOptions): Template {
  const nodes = parse(src);
  const ev = new Evaluator(opts, { ...BUILTINS, ...opts.funcs });
  return {
    execute(data) {
      const out: string[] = [];
      ev.nodes(nodes, { dot: data, vars: new Map([['$', data]]) }, out);
      return out.join('');
    },
  };
}
