import { EmbeddedActionsParser, type IToken } from 'chevrotain';
import {
  Colon, Comma, False, LBracket, LCurly, Null, NumberLiteral, RBracket, RCurly, StringLiteral, True,
  jsonTokens, tokenizeJson,
} from './lexer.js';
import type { ExecForm } from './exec-form.js';

/**
 * The exec-form grammar: one JSON value (Go's `json.Unmarshal` accepts nothing after it).
 * A value is kept only as far as the exec form needs: strings, or "something else".
 */
type JsonValue = { kind: 'string'; image: string } | { kind: 'array'; items: JsonValue[] } | { kind: 'other' };

class JsonGrammar extends EmbeddedActionsParser {
  constructor() {
    // The grammar is fixed and tested: Chevrotain's grammar validations (meant for while a
    // grammar is written) would only cost every cold parse a few milliseconds.
    super(jsonTokens, { maxLookahead: 1, skipValidations: true });
    this.performSelfAnalysis();
  }

  public value = this.RULE('value', (): JsonValue =>
    this.OR([
      { ALT: () => ({ kind: 'string' as const, image: this.CONSUME(StringLiteral).image }) },
      { ALT: () => this.SUBRULE(this.array) },
      { ALT: () => this.SUBRULE(this.object) },
      { ALT: () => { this.CONSUME(NumberLiteral); return { kind: 'other' as const }; } },
      { ALT: () => { this.CONSUME(True); return { kind: 'other' as const }; } },
      { ALT: () => { this.CONSUME(False); return { kind: 'other' as const }; } },
      { ALT: () => { this.CONSUME(Null); return { kind: 'other' as const }; } },
    ]),
  );

  public array = this.RULE('array', (): JsonValue => {
    const items: JsonValue[] = [];
    this.CONSUME(LBracket);
    this.MANY_SEP({ SEP: Comma, DEF: () => { items.push(this.SUBRULE(this.value)); } });
    this.CONSUME(RBracket);
    return { kind: 'array', items };
  });

  public object = this.RULE('object', (): JsonValue => {
    this.CONSUME(LCurly);
    this.MANY_SEP({
      SEP: Comma,
      DEF: () => {
        this.CONSUME(StringLiteral);
        this.CONSUME(Colon);
        this.SUBRULE(this.value);
      },
    });
    this.CONSUME(RCurly);
    return { kind: 'other' };
  });
}

/** Go decodes a lone UTF-16 surrogate escape (`\ud800`) as U+FFFD. */
function decodeJsonString(image: string): string {
  return (JSON.parse(image) as string).replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** Built on first use: chevrotain's self-analysis costs milliseconds at every start otherwise. */
let grammar: JsonGrammar | undefined;

const MAX_GO_DEPTH = 10000;
const MAX_RECURSIVE_DEPTH = 200;

function nestingDepth(tokens: IToken[]): number {
  let depth = 0;
  let max = 0;
  for (const t of tokens) {
    if (t.tokenType === LBracket || t.tokenType === LCurly) max = Math.max(max, ++depth);
    else if (t.tokenType === RBracket || t.tokenType === RCurly) depth--;
  }
  return max;
}

/** An array nested too deep for the recursive grammar: valid JSON means "not all strings". */
function deepArray(text: string): ExecForm {
  try {
    JSON.parse(text);
    return { kind: 'not-strings' };
  } catch {
    return { kind: 'not-json' };
  }
}

/**
 * parseExecForm by the Chevrotain grammar alone. This module and Chevrotain are bundled on
 * their own (dist/tsbuild-grammar.cjs), loaded at their first use (parser/exec-form.ts).
 */
export function parseExecFormWithGrammar(text: string): ExecForm {
  const tokens = tokenizeJson(text);
  if (!tokens || tokens.length === 0 || tokens[0].tokenType !== LBracket) return { kind: 'not-json' };
  const depth = nestingDepth(tokens);
  // Go's decoder refuses more than 10000 levels; deep (but legal) nesting is checked without recursion.
  if (depth > MAX_GO_DEPTH) return { kind: 'not-json' };
  if (depth > MAX_RECURSIVE_DEPTH) return deepArray(text);
  grammar ??= new JsonGrammar();
  grammar.input = tokens;
  const value = grammar.value();
  if (grammar.errors.length > 0 || value.kind !== 'array') return { kind: 'not-json' };
  const items: string[] = [];
  for (const item of value.items) {
    if (item.kind !== 'string') return { kind: 'not-strings' };
    items.push(decodeJsonString(item.image));
  }
  return { kind: 'array', items };
}
