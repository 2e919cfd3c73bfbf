import { readFile } from 'node:fs/promises';
import { UserError } from '../common/index.js';
import { resolveInRoot } from '../context/index.js';

/**
 * Users and groups by the image's own /etc/passwd and /etc/group (never the host's).
 * `resolveUser` follows Docker/runc's GetExecUser for USER and `run -u`; `resolveChown`
 * follows BuildKit's COPY --chown, where a bare uid also becomes the gid.
 */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups: the groups listing the user by name (implicit group form only). */
  groups: number[];
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const MAX_ID = 2 ** 31 - 1;

export const userMessages = {
  'unknown-user': (name: string) => `unable to find user ${name}: no matching entries in passwd file`,
  'unknown-group': (name: string) => `unable to find group ${name}: no matching entries in group file`,
  'bad-user-id': (id: string) => `user or group id out of range: ${id}`,
} satisfies Record<string, (...args: never[]) => string>;

/** USER / `run -u`: "name", "uid", "name:group", "uid:gid" resolved against `rootfs`. */
export async function resolveUser(spec: string, rootfs: string | undefined): Promise<ResolvedUser> {
  const [userArg, groupArg = ''] = splitSpec(spec);
  const passwd = await readPasswd(rootfs);
  const uidArg = numeric(userArg);
  const gidArg = numeric(groupArg);
  const user: ResolvedUser = { uid: 0, gid: 0, groups: [] };
  let matchedName = '';
  const u = passwd.find((p) => (userArg === '' ? p.uid === 0 : uidArg !== undefined ? p.uid === uidArg : p.name === userArg));
  if (u) {
    matchedName = u.name;
    user.uid = u.uid;
    user.gid = u.gid;
  } else if (userArg !== '') {
    // A name must exist; a number without an entry is fine (gid 0, like Docker).
    if (uidArg === undefined) throw unknown('unknown-user', userArg);
    user.uid = checkRange(uidArg, userArg);
  }
  if (groupArg === '' && matchedName === '') return user;
  const groups = await readGroups(rootfs);
  if (groupArg !== '') {
    const g = groups.find((x) => (gidArg !== undefined ? x.gid === gidArg : x.name === groupArg));
    if (g) user.gid = g.gid;
    else if (gidArg === undefined) throw unknown('unknown-group', groupArg);
    else user.gid = checkRange(gidArg, groupArg);
  } else {
    user.groups = groups.filter((g) => g.members.includes(matchedName)).map((g) => g.gid);
  }
  return user;
}

/**
 * The home dir of USER `spec` by the image's /etc/passwd (the entry `resolveUser` matches),
 * `/` when it has none: runc's GetExecUserPath default, which sets a RUN's HOME under BuildKit.
 */
export async function resolveHome(spec: string, rootfs: string | undefined): Promise<string> {
  const [userArg] = splitSpec(spec);
  const uidArg = numeric(userArg);
  const passwd = await readPasswd(rootfs);
  const u = passwd.find((p) => (userArg === '' ? p.uid === 0 : uidArg !== undefined ? p.uid === uidArg : p.name === userArg));
  return u?.home || '/';
}

/** COPY/ADD --chown: "uid[:gid]" numbers need no files; names come from the destination rootfs. */
export async function resolveChown(spec: string, rootfs: string | undefined): Promise<{ uid: number; gid: number }> {
  const [userArg, groupArg] = splitSpec(spec);
  let uid = 0;
  let gid = 0;
  if (userArg !== '') {
    const n = numeric(userArg);
    if (n !== undefined) {
      uid = gid = checkRange(n, userArg);
    } else {
      const u = (await readPasswd(rootfs)).find((p) => p.name === userArg);
      if (!u) throw unknown('unknown-user', userArg);
      uid = u.uid;
      gid = u.gid;
    }
  }
  if (groupArg !== undefined && groupArg !== '') {
    const n = numeric(groupArg);
    if (n !== undefined) gid = checkRange(n, groupArg);
    else {
      const g = (await readGroups(rootfs)).find((x) => x.name === groupArg);
      if (!g) throw unknown('unknown-group', groupArg);
      gid = g.gid;
    }
  }
  return { uid, gid };
}

/**
 * The owner WORKDIR gives the dirs it makes: USER as BuildKit's mkdir takes it (llb.WithUser,
 * then solver/llbsolver/ops/user_linux.go readUser): a number (or `root`) is the uid and the
 * gid, a name comes from the image's passwd/group, and a name the image lacks counts as 0.
 */
export async function resolveWorkdirOwner(spec: string, rootfs: string | undefined): Promise<{ uid: number; gid: number }> {
  const [userArg, groupArg] = splitSpec(spec);
  const id = (s: string) => (s === 'root' ? 0 : numeric(s));
  let uid = 0;
  let gid = 0;
  if (userArg !== '') {
    const n = id(userArg);
    if (n !== undefined) uid = gid = checkRange(n, userArg);
    else {
      const u = (await readPasswd(rootfs)).find((p) => p.name === userArg);
      if (u) ({ uid, gid } = u);
    }
  }
  if (groupArg !== undefined && groupArg !== '') {
    const n = id(groupArg);
    if (n !== undefined) gid = checkRange(n, groupArg);
    else gid = (await readGroups(rootfs)).find((g) => g.name === groupArg)?.gid ?? gid;
  }
  return { uid, gid };
}

function splitSpec(spec: string): [string, string | undefined] {
  const i = spec.indexOf(':');
  return i < 0 ? [spec.trim(), undefined] : [spec.slice(0, i).trim(), spec.slice(i + 1).trim()];
}

function numeric(s: string): number | undefined {
  return /^[0-9]+$/.test(s) ? Number(s) : undefined;
}

function checkRange(n: number, text: string): number {
  if (n > MAX_ID) throw new UserError('bad-user-id', userMessages['bad-user-id'](text));
  return n;
}

function unknown(code: 'unknown-user' | 'unknown-group', name: string): UserError {
  return new UserError(code, userMessages[code](name), {
    where: name,
    hint: code === 'unknown-user' ? 'create the user in the image first (e.g. RUN useradd …) or use a numeric uid' : undefined,
  });
}

async function readEtc(rootfs: string | undefined, name: string): Promise<string[]> {
  if (rootfs === undefined) return [];
  const r = await resolveInRoot(rootfs, `/etc/${name}`, { followFinal: true });
  if (!r.stat?.isFile()) return [];
  const text = await readFile(`${rootfs}/${r.realRel}`, 'utf8');
  return text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
}

async function readPasswd(rootfs: string | undefined): Promise<PasswdEntry[]> {
  const out: PasswdEntry[] = [];
  for (const line of await readEtc(rootfs, 'passwd')) {
    const f = line.split(':');
    const uid = numeric(f[2] ?? '');
    const gid = numeric(f[3] ?? '');
    if (f[0] && uid !== undefined && gid !== undefined) out.push({ name: f[0], uid, gid, home: f[5] ?? '' });
  }
  return out;
}

async function readGroups(rootfs: string | undefined): Promise<GroupEntry[]> {
  const out: GroupEntry[] = [];
  for (const line of await readEtc(rootfs, 'group')) {
    const f = line.split(':');
    const gid = numeric(f[2] ?? '');
    if (f[0] && gid !== undefined) out.push({ name: f[0], gid, members: (f[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean) });
  }
  return out;
}
