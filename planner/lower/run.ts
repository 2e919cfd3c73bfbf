import { UserError } from '../../common/index.js';
import type { CommandLine, Run } from '../../parser/index.js';
import { cacheKeyOf, type KeyParts } from '../cache-key.js';
import { runCreatedBy } from '../history-text.js';
import { messages } from '../messages.js';
import type { ExecStep, Network } from '../step.js';
import { shellOf } from './command-line.js';
import type { LowerArgs } from './lowering.js';
import { lowerMounts } from './run-mounts.js';

/** `RUN`: argv through the SHELL, the environment a RUN sees, and its key. */
export async function lowerRun(ins: Run, a: LowerArgs): Promise<ExecStep> {
  const { cursor, scope } = a;
  const opts = a.lc.opts;
  const { mounts, keys: mountKeys } = await lowerMounts(ins, a);
  const network: Network = ins.network ?? opts.network;
  const security = ins.security ?? 'sandbox';
  // BuildKit refuses both without the entitlement (frontend/dockerfile/docs: RUN --network, --security).
  if (network === 'host' && !opts.entitlements.has('network.host')) {
    const what = ins.network === 'host' ? 'RUN --network=host' : 'a RUN step on the host network (--network host)';
    throw new UserError('entitlement-needed', messages['entitlement-needed'](what, 'network.host'), {
      where: ins.range,
      hint: 'the host network reaches every service the host does; grant it only to Dockerfiles you trust',
    });
  }
  if (security === 'insecure' && !opts.entitlements.has('security.insecure')) {
    throw new UserError('entitlement-needed', messages['entitlement-needed']('RUN --security=insecure', 'security.insecure'), {
      where: ins.range,
      hint: 'an insecure step runs with every capability and no seccomp filter; grant it only to Dockerfiles you trust',
    });
  }
  let argv: string[];
  let text: string;
  if (ins.command.form === 'exec') {
    argv = ins.command.argv;
    text = argv.join(' ');
  } else {
    const script = heredocScript(ins.command);
    argv = [...shellOf(cursor.config), script];
    text = argv.join(' ');
  }
  const runArgs = scope.runArgs();
  const env = [...(cursor.config.Env ?? []), ...runArgs.map(([k, v]) => `${k}=${v}`)];
  const cwd = cursor.config.WorkingDir || '/';
  const user = cursor.config.User || '';
  const keyParts: KeyParts = { parent: cursor.key, op: 'exec', argv, env, cwd, user, network };
  if (mountKeys.length) keyParts.mounts = mountKeys;
  if (security === 'insecure') keyParts.security = security;
  const createdBy = runCreatedBy(scope.historyArgs(), text);
  return {
    op: 'exec',
    index: 0,
    display: `${a.label()} RUN ${ins.command.form === 'exec' ? JSON.stringify(argv) : ins.command.script}`,
    createdBy,
    cacheKey: cacheKeyOf(keyParts),
    keyParts,
    origin: ins.range,
    edits: [],
    argv,
    env,
    cwd,
    user,
    network,
    security,
    files: [],
    mounts,
  };
}

/**
 * A shell-form command with heredocs: a lone `<<EOF` runs the body as the script (BuildKit);
 * otherwise the bodies follow the command line, as a shell reads them.
 */
function heredocScript(cmd: Extract<CommandLine, { form: 'shell' }>): string {
  if (cmd.heredocs.length === 0) return cmd.script;
  const body = (h: (typeof cmd.heredocs)[number]) => (h.chomp ? h.content.replace(/^\t+/gm, '') : h.content);
  if (cmd.heredocs.length === 1 && /^\s*\d*<<-?\s*['"]?[^\s'"]+['"]?\s*$/.test(cmd.script)) {
    return body(cmd.heredocs[0]);
  }
  let script = cmd.script + '\n';
  for (const h of cmd.heredocs) script += body(h) + h.name + '\n';
  return script;
}
