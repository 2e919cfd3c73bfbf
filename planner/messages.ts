/** The planner's user-facing messages, one per code (STYLE.md §4). */
export const messages = {
  // A warning, not an error (BuildKit prints the same line).
  'source-date-epoch': (value: string) =>
    `SOURCE_DATE_EPOCH "${value}" is not supported yet: give a number of seconds (BuildKit's context and stage sources are not implemented)`,
  'unused-build-args': (names: string[]) => `one or more build args were not consumed: [${names.join(' ')}]`,
  'no-from': () => 'no FROM instruction: a Dockerfile must start with FROM (after ARGs and directives)',
  'unknown-target': (name: string, known: string[]) =>
    `target stage "${name}" could not be found` + (known.length ? ` (stages: ${known.join(', ')})` : ''),
  'unknown-stage': (name: string) => `stage "${name}" is not defined before this instruction`,
  'stage-near-miss': (name: string) => `"${name}" is not a stage of this Dockerfile, and looks like a typo of one`,
  'stage-self': (name: string) => `stage "${name}" cannot copy from itself`,
  'duplicate-stage': (name: string) => `duplicate stage name "${name}"`,
  'invalid-stage-name': (name: string) =>
    `invalid name for build stage: "${name}", name can't start with a number or contain symbols`,
  'base-name-empty': () => 'base name (FROM) should not be blank',
  'onbuild-trigger': (trigger: string, why: string) => `ONBUILD trigger "${trigger}" of the base image: ${why}`,
  'entitlement-needed': (what: string, entitlement: string) =>
    `${what} needs the ${entitlement} entitlement: add --allow ${entitlement}`,
  'invalid-from-platform': (given: string) => `FROM --platform=${given}: not a platform (want os/arch[/variant], e.g. linux/arm64)`,
  // BuildKit's own texts (dockerfile2llb/convert_copy.go): a local source has nothing to verify.
  'checksum-needs-remote': () => 'checksum requires HTTP(S) or Git sources',
  'checksum-multiple-sources': () => "checksum can't be specified for multiple sources",
  'keep-git-dir-needs-git': () => '--keep-git-dir applies to Git sources only',
  'copy-url': (src: string) => `source can't be a URL for COPY: ${src}`,
  'copy-git': (src: string) => `source can't be a git ref for COPY: ${src}`,
  'add-remote-unsupported': (what: string) => `${what} is not supported yet`,
  'bad-chmod': (value: string) => `invalid --chmod value "${value}": want an octal mode such as 755`,
} satisfies Record<string, (...args: never[]) => string>;
