/**
 * The sandbox's attacks (test/e2e/sandbox.test.ts runs them as root, test/e2e/rootless.test.ts
 * as an ordinary user): one command of the static probe (fixtures/probe/probe.c) each, with
 * the errno Docker's defaults give.
 */

/** Each attack's probe command; {minor}, {port}, {abstract} and {pid} are filled in once the hosts' side is up. */
export const ATTACKS: { name: string; cmd: string; want: string | RegExp }[] = [
  // Devices: only Docker's default set opens; any other node is useless, wherever it is made.
  { name: 'a host loop device made with mknod in /tmp cannot be opened', cmd: 'mknod-open /tmp/b b 7 {minor}', want: 'EACCES' },
  { name: 'a host loop device made with mknod in /dev cannot be opened', cmd: 'mknod-open /dev/b b 7 {minor}', want: 'EACCES' },
  { name: 'the host disk (b 8 0) made with mknod cannot be opened', cmd: 'mknod-open /tmp/sda b 8 0', want: 'EACCES' },
  { name: '/dev/kvm is not there', cmd: 'open /dev/kvm', want: 'ENOENT' },
  { name: 'kvm made with mknod cannot be opened', cmd: 'mknod-open /dev/kvm c 10 232', want: 'EACCES' },
  { name: 'loop-control made with mknod cannot be opened', cmd: 'mknod-open /tmp/lc c 10 237', want: 'EACCES' },
  { name: 'fuse made with mknod cannot be opened', cmd: 'mknod-open /tmp/fuse c 10 229', want: 'EACCES' },
  { name: 'the host console made with mknod cannot be opened', cmd: 'mknod-open /tmp/console c 5 1', want: 'EACCES' },
  { name: 'tty1 made with mknod cannot be opened', cmd: 'mknod-open /tmp/tty1 c 4 1', want: 'EACCES' },
  { name: 'btrfs-control made with mknod cannot be opened', cmd: 'mknod-open /tmp/btrfs c 10 234', want: 'EACCES' },
  { name: '/dev/null opens', cmd: 'open /dev/null', want: 'ok' },
  { name: '/dev/zero opens', cmd: 'open /dev/zero', want: 'ok' },
  { name: '/dev/full opens', cmd: 'open /dev/full', want: 'ok' },
  { name: '/dev/urandom opens', cmd: 'open /dev/urandom', want: 'ok' },
  { name: '/dev/random opens', cmd: 'open /dev/random', want: 'ok' },
  // Network: a namespace of its own; the host's loopback and abstract sockets are out of reach.
  { name: "the host's 127.0.0.1 service is unreachable on 127.0.0.1", cmd: 'connect 127.0.0.1 {port}', want: 'ECONNREFUSED' },
  { name: "the host's 127.0.0.1 service is unreachable through the NAT's gateway", cmd: 'connect 10.0.2.2 {port}', want: /^(ECONNREFUSED|ENETUNREACH)$/ },
  { name: "the host's abstract unix socket is unreachable", cmd: 'abstract {abstract}', want: 'ECONNREFUSED' },
  // Seccomp: Docker's default profile.
  { name: 'keyctl is refused', cmd: 'syscall keyctl', want: 'EPERM' },
  { name: 'add_key is refused', cmd: 'syscall add_key', want: 'EPERM' },
  { name: 'unshare(CLONE_NEWUSER) is refused', cmd: 'syscall unshare-user', want: 'EPERM' },
  { name: 'clone(CLONE_NEWUSER) is refused', cmd: 'syscall clone-newuser', want: 'EPERM' },
  { name: 'clone3 is ENOSYS, so libc falls back to clone', cmd: 'syscall clone3', want: 'ENOSYS' },
  { name: 'clone with the flags threads use works', cmd: 'syscall clone-thread', want: 'ok' },
  { name: 'mount is refused', cmd: 'syscall mount', want: 'EPERM' },
  { name: 'io_uring_setup is refused', cmd: 'syscall io_uring', want: 'EPERM' },
  { name: 'perf_event_open is refused', cmd: 'syscall perf', want: 'EPERM' },
  { name: 'bpf is refused', cmd: 'syscall bpf', want: 'EPERM' },
  { name: 'personality(ADDR_NO_RANDOMIZE) is refused', cmd: 'syscall personality-bad', want: 'EPERM' },
  { name: 'personality(0xffffffff), the query, is allowed', cmd: 'syscall personality-query', want: 'ok' },
  { name: 'an AF_VSOCK socket is refused', cmd: 'syscall vsock', want: 'EPERM' },
  { name: 'an AF_ALG socket is refused', cmd: 'syscall alg', want: 'EPERM' },
  { name: 'ptrace(PTRACE_ATTACH) of a host process finds none', cmd: 'syscall ptrace-host {pid}', want: 'ESRCH' },
];

/** `cmd` with {minor}, {port}, {abstract} and {pid} filled in. */
export function fillAttack(cmd: string, values: { minor: number; port: number; abstract: string; pid: number }): string {
  return cmd.replace(/\{(minor|port|abstract|pid)\}/g, (_, k: string) => String(values[k as 'minor']));
}

/** One shell line that runs every probe and prints `I=RESULT` per row. */
export function probeScript(rows: { cmd: string }[]): string {
  return rows.map((r, i) => `echo "${i}=$(/probe ${r.cmd})"`).join('; ');
}

/** The results of probeScript's output, by row. */
export function parseProbes(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^(\d+)=(.*)$/gm)) out[Number(m[1])] = m[2];
  return out;
}
