/** Messages of remote sources (remote/), one code → one message; each names the URL. */
export const remoteMessages = {
  'remote-bad-url': (src: string) => `invalid URL: ${src}`,
  'http-dns': (url: string, host: string) => `${url}: cannot resolve host ${host}`,
  'http-refused': (url: string) => `${url}: connection refused`,
  'http-tls': (url: string, why: string) => `${url}: TLS: ${why}`,
  'http-status': (url: string, status: number, text: string) => `${url}: ${status} ${text}`.trimEnd(),
  'http-timeout': (url: string, seconds: number) => `${url}: no data for ${seconds} s`,
  'http-failed': (url: string, why: string) => `${url}: ${why}`,
  // BuildKit's source/http/source.go validatePinnedChecksum wording.
  'http-digest-mismatch': (url: string, got: string, want: string) => `digest mismatch for ${url}: ${got} (expected: ${want})`,
  'http-bad-checksum': (value: string) => `invalid checksum "${value}": want sha256:<64 hex digits>`,
  'git-bad-query': (src: string, why: string) => `invalid git source ${src}: ${why}`,
  'git-ref-conflict': (src: string, what: string, a: string, b: string) => `invalid git source ${src}: ${what} conflicts: "${a}" vs "${b}"`,
  'git-bad-checksum': (value: string) => `invalid checksum ${value} for Git URL, expected hex commit hash`,
  // BuildKit's source/git/source.go wording.
  'git-checksum-mismatch': (remote: string, want: string, got: string) => `${remote}: expected checksum to match ${want}, got ${got}`,
  'git-no-ref': (remote: string, ref: string) => `${remote}: repository does not contain ref ${ref}`,
  'git-failed': (remote: string, what: string, why: string) => `${remote}: git ${what} failed: ${why}`,
  'git-missing': () => 'ADD from git needs the git program, which is not on PATH',
  'git-ssh-needs-agent': (remote: string) => `${remote}: an ssh git source needs an ssh agent`,
  'git-no-subdir': (remote: string, subdir: string) => `${remote}: subdirectory "${subdir}" not found in the repository`,
} satisfies Record<string, (...args: never[]) => string>;
