/** Messages of the build-context layer (context/), one code → one message. */
export const contextMessages = {
  'copy-source-missing': (path: string) => `${JSON.stringify(path)}: not found`,
  'copy-source-ignored': (path: string) => `${JSON.stringify(path)}: not found (excluded by .dockerignore)`,
  'copy-bad-chmod': (spec: string) =>
    `invalid chmod parameter: '${spec}'. it should be octal string and between 0 and 07777, or a symbolic mode like u+x`,
  'context-io': (what: string, path: string, code: string) => `${what}: read ${path}: ${code}`,
  'context-symlink-loop': (path: string) => `${JSON.stringify(path)}: too many levels of symbolic links`,
} satisfies Record<string, (...args: never[]) => string>;
