/**
 * Every message the parser gives a user, one per code. Arguments are type-checked; the code
 * is what tests and other layers rely on, the wording may improve.
 */
export const messages = {
  // Reading lines and directives.
  'line-too-long': () => 'dockerfile line greater than max allowed size of 65535',
  'duplicate-directive': (name: string) => `only one ${name} parser directive can be used`,
  'invalid-escape': (value: string) => `invalid escape token '${value}' does not match \` or \\`,
  'no-instructions': () => 'file with no instructions',
  'unterminated-heredoc': (name: string) => `unterminated heredoc <<${name}`,
  'bad-heredoc-name': (word: string, reason: string) => `cannot read heredoc "${word}": ${reason}`,
  // Splitting arguments.
  'env-needs-value': (kw: string) => `${kw} must have two arguments`,
  'missing-equals': (kw: string, word: string) => `${kw}: can't find = in "${word}"; must be of the form: name=value`,
  'json-not-strings': () => 'when using JSON array syntax, arrays must be comprised of strings only',
  // Typed instructions.
  'unknown-instruction': (word: string) => `unknown instruction "${word}"`,
  'unknown-flag': (kw: string, flag: string) => `${kw} does not accept --${flag}`,
  'duplicate-flag': (kw: string, flag: string) => `${kw}: --${flag} is given more than once`,
  'flag-needs-value': (kw: string, flag: string) => `${kw}: --${flag} needs a value (--${flag}=...)`,
  'flag-not-bool': (kw: string, flag: string, value: string) => `${kw}: --${flag} expects true or false, not "${value}"`,
  'needs-arguments': (kw: string) => `${kw} requires at least one argument`,
  'needs-one-argument': (kw: string) => `${kw} requires exactly one argument`,
  'copy-needs-dest': (kw: 'COPY' | 'ADD') => `${kw} needs a source and a destination`,
  'heredoc-as-dest': (kw: 'COPY' | 'ADD') => `${kw} cannot accept a heredoc as a destination`,
  'from-arguments': () => 'FROM requires either one or three arguments',
  'invalid-stage-name': (name: string) => `invalid name for build stage: "${name}", name can't start with a number or contain symbols`,
  'blank-name': (kw: string) => `${kw} names can not be blank`,
  'onbuild-chain': () => 'chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed',
  'onbuild-trigger': (kw: string) => `${kw} isn't allowed as an ONBUILD trigger`,
  'healthcheck-none-args': () => 'HEALTHCHECK NONE takes no arguments',
  'healthcheck-missing-cmd': () => 'missing command after HEALTHCHECK CMD',
  'healthcheck-type': (typ: string) => `unknown type "${typ}" in HEALTHCHECK (try CMD)`,
  'bad-duration': (flag: string, value: string) => `HEALTHCHECK: invalid duration "${value}" for --${flag}`,
  'duration-too-short': (flag: string) => `HEALTHCHECK: --${flag} cannot be less than 1ms`,
  'bad-retries': (value: string) => `HEALTHCHECK: invalid --retries "${value}"`,
  'negative-retries': (value: string) => `HEALTHCHECK: --retries cannot be negative (${value})`,
  'empty-volume': () => 'VOLUME specified can not be an empty string',
  'shell-not-json': () => 'SHELL requires the arguments to be in JSON form',
  'bad-mount': (spec: string, reason: string) => `RUN --mount=${spec}: ${reason}`,
  'bad-network': (value: string) => `RUN: unsupported network mode "${value}"`,
  'bad-security': (value: string) => `RUN: unsupported security mode "${value}"`,
  // Expansion.
  'bad-substitution': (word: string, reason: string) => `failed to process "${word}": ${reason}`,
  'word-too-large': (word: string, limitBytes: number) =>
    `failed to process "${word.length > 80 ? `${word.slice(0, 77)}...` : word}": it expands to more than ${limitBytes / (1 << 20)} MiB`,
} satisfies Record<string, (...args: never[]) => string>;

export type MessageCode = keyof typeof messages;

export const hints: Partial<Record<MessageCode, string>> = {
  'env-needs-value': 'write ENV name=value (or the legacy ENV name value)',
  'from-arguments': 'write FROM image or FROM image AS name',
  'shell-not-json': 'write SHELL ["executable", "parameters"], e.g. SHELL ["/bin/sh", "-c"]',
  'json-not-strings': 'every element of an exec-form array must be a "string"',
  'copy-needs-dest': 'the last argument is the destination, e.g. COPY src /dest/',
  'word-too-large': 'one word may expand to 1 MiB at most; look for a variable defined from itself (ENV a=$a$a doubles it at every line)',
};
