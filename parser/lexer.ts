import { createToken, Lexer, type IToken, type TokenType } from 'chevrotain';

/**
 * Chevrotain tokens for the exec form (`["a", "b"]`): the whole JSON grammar is tokenised so
 * that anything JSON-shaped but not a string array can be told apart from "not JSON at all"
 * (BuildKit rejects the first and treats the second as shell form). This module and
 * grammar.ts are the only places that know Chevrotain.
 */
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/ });
export const RBracket = createToken({ name: 'RBracket', pattern: /\]/ });
export const LCurly = createToken({ name: 'LCurly', pattern: /\{/ });
export const RCurly = createToken({ name: 'RCurly', pattern: /\}/ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
export const Colon = createToken({ name: 'Colon', pattern: /:/ });
export const StringLiteral = createToken({
  name: 'StringLiteral',
  pattern: /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/,
});
export const NumberLiteral = createToken({ name: 'NumberLiteral', pattern: /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/ });
export const True = createToken({ name: 'True', pattern: /true/ });
export const False = createToken({ name: 'False', pattern: /false/ });
export const Null = createToken({ name: 'Null', pattern: /null/ });
/** JSON white space is exactly these four characters. */
export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\n\r]+/, group: Lexer.SKIPPED });

export const jsonTokens: TokenType[] = [
  WhiteSpace, LBracket, RBracket, LCurly, RCurly, Comma, Colon, StringLiteral, NumberLiteral, True, False, Null,
];

/** Built on first use, like the grammar. */
let jsonLexer: Lexer | undefined;

/** The JSON tokens of `text`, or undefined when some character is not JSON. */
export function tokenizeJson(text: string): IToken[] | undefined {
  jsonLexer ??= new Lexer(jsonTokens, { positionTracking: 'onlyOffset', ensureOptimizations: false, skipValidations: true, safeMode: true });
  const r = jsonLexer.tokenize(text);
  return r.errors.length ? undefined : r.tokens;
}
