import { spawn } from 'node:child_process';
import { UserError } from '../common/index.js';
import { remoteMessages } from './messages.js';
import type { RemoteAccess, RemoteSettings } from './settings.js';

/**
 * The system `git`, run as BuildKit runs it (util/gitutil/git_cli.go): no terminal prompt,
 * no system or user config, C locale, no file:// transport, the proxy settings; for ssh remotes the build's agent
 * and no host key prompt. Resolves with stdout; a failure is one UserError line with git's
 * last message.
 */
export function runGit(
  args: string[],
  ctx: { remote: string; what: string; cwd?: string; home: string; settings: RemoteSettings; access: RemoteAccess },
): Promise<string> {
  const { settings: s, access } = ctx;
  const env: NodeJS.ProcessEnv = {
    PATH: s.searchPath,
    HOME: ctx.home,
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    // Only git's always-allowed transports (http, https, ssh, git): a repository's .gitmodules
    // cannot make the build read file:// paths of this machine.
    GIT_PROTOCOL_FROM_USER: '0',
    ...(s.proxy.httpProxy ? { http_proxy: s.proxy.httpProxy } : {}),
    ...(s.proxy.httpsProxy ? { https_proxy: s.proxy.httpsProxy } : {}),
    ...(s.proxy.noProxy ? { no_proxy: s.proxy.noProxy } : {}),
    ...(s.extraCaFile ? { GIT_SSL_CAINFO: s.extraCaFile } : {}),
    ...(access.sshAgent
      ? { SSH_AUTH_SOCK: access.sshAgent, GIT_SSH_COMMAND: 'ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null' }
      : {}),
  };
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: ctx.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' ? new UserError('git-missing', remoteMessages['git-missing'](), { hint: 'install git (Debian: apt-get install git)' }) : e);
    });
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(Buffer.concat(out).toString('utf8'));
      const lines = Buffer.concat(err).toString('utf8').split('\n').map((l) => l.trim()).filter(Boolean);
      // The first fatal line is the cause; later ones are its consequences ("clone of … failed").
      const why = lines.find((l) => /^(fatal|error):/.test(l)) ?? lines.pop() ?? (signal ? `killed by ${signal}` : `exit code ${code}`);
      reject(new UserError('git-failed', remoteMessages['git-failed'](ctx.remote, ctx.what, why.replace(/^(fatal|error): /, '')), { where: ctx.remote }));
    });
  });
}
