/**
 * What remote fetches take from the environment, given by the caller (engine/settings.ts
 * reads it): nothing in remote/ reads process.env.
 */
export interface RemoteSettings {
  /** HTTP_PROXY / HTTPS_PROXY / NO_PROXY (or their lower-case forms); '' = none. */
  proxy: { httpProxy: string; httpsProxy: string; noProxy: string };
  /** CAs to trust besides Node's (NODE_EXTRA_CA_CERTS), as for registry traffic. */
  extraCaFile?: string;
  /** Where `git` is looked for: a PATH-style list. */
  searchPath: string;
  /** No byte for this long fails a download (a slow body that keeps coming is fine). */
  idleTimeoutMs?: number;
}

/** No proxy, no extra CA: what an empty environment gives (git looked for on `searchPath`). */
export function plainRemoteSettings(searchPath: string): RemoteSettings {
  return { proxy: { httpProxy: '', httpsProxy: '', noProxy: '' }, searchPath };
}

/** The build's `--ssh default` agent socket, for ssh git sources. */
export interface RemoteAccess {
  sshAgent?: string;
}
