import { spawn } from 'node:child_process';

/** What `command` (a shell line) printed when run on a real pty by script(1), with `env`. */
export function onPty(command: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (b: Buffer) => (text += b.toString('utf8')));
    child.on('error', reject);
    child.on('close', () => resolve(text));
  });
}
