import { UserError } from '../common/index.js';
import { parseRaw, typeInstructions } from '../parser/index.js';
import type { ConfigEdit } from './config-edit.js';
import { planBuild } from './plan-build.js';

/** The instructions `docker import --change` / `commit --change` accept. */
const ALLOWED = new Set(['cmd', 'entrypoint', 'env', 'expose', 'label', 'onbuild', 'user', 'volume', 'workdir', 'stopsignal', 'shell', 'healthcheck']);

/**
 * `--change 'CMD ["bash"]'`: Dockerfile instructions applied to an image's config, lowered
 * exactly as in a build (same expansion, same ENTRYPOINT/CMD rules).
 */
export async function configEditsOf(changes: string[]): Promise<ConfigEdit[]> {
  if (changes.length === 0) return [];
  const text = `FROM scratch\n${changes.join('\n')}\n`;
  const instructions = typeInstructions(parseRaw(text, '--change'));
  for (const ins of instructions.slice(1)) {
    if (!ALLOWED.has(ins.kind)) {
      throw new UserError('bad-change', `${ins.kind.toUpperCase()} is not supported by --change`, {
        where: '--change',
        hint: 'use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME or WORKDIR',
      });
    }
  }
  const plan = await planBuild(instructions, {
    buildArgs: new Map(),
    platform: { os: 'linux', architecture: 'amd64' },
    escape: '\\',
    file: '--change',
    network: 'default',
    entitlements: new Set(),
    resolveImage: () => Promise.reject(new Error('[internal] --change resolves no image')),
    hashContext: async () => ({ digest: 'none' }),
    resolveRemote: () => Promise.reject(new Error('[internal] --change resolves no remote source')),
  });
  return plan.stages[plan.target].steps.flatMap((s) => s.edits);
}
