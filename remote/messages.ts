/** Credentials in a URL never reach a message (BuildKit's urlutil.RedactCredentials). */
export function redacted(url: string): string {
  return url.replace(/^([a-z0-9+.-]+:\/\/)[^@/]*@/i, '$1xxxxx@');
}

/** Messages of remote sources (remote/), one code → one message; each names the URL (redacted). */
export const remoteMessages = {
  'remote-bad-url': (src: string) => `invalid URL: ${redacted(src)}`,
  'http-dns': (url: string, host: string) => `${redacted(url)}: cannot resolve host ${host}`,
  'http-refused': (url: string) => `${redacted(url)}: connection refused`,
  'http-tls': (url: string, why: string) => `${redacted(url)}: TLS: ${why}`,
  'http-status': (url: string, status: number, text: string) => `${redacted(url)}: ${status} ${text}`.trimEnd(),
  'http-timeout': (url: string, seconds: number) => `${redacted(url)}: no data for ${seconds} s`,
  'http-failed': (url: string, why: string) => `${redacted(url)}: ${why}`,
  // BuildKit's source/http/source.go validatePinnedChecksum wording.
  'http-digest-mismatch': (url: string, got: string, want: string) => `digest mismatch for ${redacted(url)}: ${got} (expected: ${want})`,
  'http-bad-checksum': (value: string) => `invalid checksum "${value}": want sha256:<64 hex digits>`,
  'git-bad-query': (src: string, why: string) => `invalid git source ${redacted(src)}: ${why}`,
  'git-ref-conflict': (src: string, what: string, a: string, b: string) => `invalid git source ${redacted(src)}: ${what} conflicts: "${a}" vs "${b}"`,
  'git-bad-checksum': (value: string) => `invalid checksum ${value} for Git URL, expected hex commit hash`,
  // BuildKit's source/git/source.go wording.
  'git-checksum-mismatch': (remote: string, want: string, got: string) => `${redacted(remote)}: expected checksum to match ${want}, got ${got}`,
  'git-no-ref': (remote: string, ref: string) => `${redacted(remote)}: repository does not contain ref ${ref}`,
  'git-failed': (remote: string, what: string, why: string) => `${redacted(remote)}: git ${what} failed: ${why}`,
  'git-missing': () => 'ADD from git needs the git program, which is not on PATH',
  'git-ssh-needs-agent': (remote: string) => `${redacted(remote)}: an ssh git source needs an ssh agent`,
  'git-no-subdir': (remote: string, subdir: string) => `${redacted(remote)}: subdirectory "${subdir}" not found in the repository`,
} satisfies Record<string, (...args: never[]) => string>;
