import { defaultRoot } from '../common/index.js';

/** Split global options (before the verb) from the rest; the root is --root, else the settings' rule. */
export function splitGlobals(argv: string[], env: NodeJS.ProcessEnv): { root: string; rest: string[] } {
  let root: string | undefined;
  let i = 0;
  while (i < argv.length) {
    const a = argv[i];
    if (a === '--root' && i + 1 < argv.length) {
      root = argv[i + 1];
      i += 2;
    } else if (a.startsWith('--root=')) {
      root = a.slice('--root='.length);
      i += 1;
    } else break;
  }
  return { root: root ?? defaultRoot(env), rest: argv.slice(i) };
}
