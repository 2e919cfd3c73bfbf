import { readFile, realpath } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../common/index.js';
import { compilePatterns, parseDockerignore, type Matcher } from './dockerignore.js';
import { contextMessages } from './messages.js';

export interface BuildContext {
  /** Real absolute path of the context directory. */
  root: string;
  dockerfilePath: string;
  /** The ignore file in force (`<Dockerfile>.dockerignore` wins over `.dockerignore`), if any. */
  ignoreFile: string | undefined;
  /** Where an ignore file was looked for, in order (whether or not one was there). */
  ignoreCandidates: string[];
  ignore: Matcher;
}

/**
 * Open a build context: its real root and the ignore file that applies to this Dockerfile
 * (`dockerfilePath: null`: a named context, which only its own .dockerignore filters).
 */
export async function openContext(dir: string, opts: { dockerfilePath?: string | null } = {}): Promise<BuildContext> {
  let root: string;
  try {
    root = await realpath(dir);
  } catch {
    throw new UserError('context-missing', `unable to prepare context: path ${JSON.stringify(dir)} not found`, { where: dir });
  }
  const dockerfilePath = opts.dockerfilePath ? resolve(opts.dockerfilePath) : join(root, 'Dockerfile');
  // BuildKit: `<Dockerfile path>.dockerignore` next to the Dockerfile wins over the context's.
  const ignoreCandidates = [...(opts.dockerfilePath === null ? [] : [`${dockerfilePath}.dockerignore`]), join(root, '.dockerignore')];
  for (const candidate of ignoreCandidates) {
    const text = await readFile(candidate, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
      throw new UserError('context-io', contextMessages['context-io']('build context', candidate, e.code ?? e.message));
    });
    if (text !== undefined) return { root, dockerfilePath, ignoreFile: candidate, ignoreCandidates, ignore: parseDockerignore(text, basename(candidate)) };
  }
  return { root, dockerfilePath, ignoreFile: undefined, ignoreCandidates, ignore: compilePatterns([]) };
}
