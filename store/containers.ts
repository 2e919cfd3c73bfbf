/**
 * Container state records under `<root>/containers/<id>/`: config.json (what `ps` shows),
 * upper/ and work/ (the container's own layer), mnt/ (the helper's mount point), etc/
 * (its resolv.conf, hosts, hostname), status (the helper's last line) and output.log for
 * detached runs. Names are reserved by `containers/names/<name>` symlinks (atomic, no lock).
 * A record whose helper is gone is reported as exited — never a stale "running" — and
 * a gone `--rm` container is swept on the next listing.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, readlink, rm, stat, symlink, unlink } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareCodeUnits, type Digest } from '../common/index.js';
import { writeFileAtomic } from './atomic.js';

export interface ContainerImageRef {
  /** The image id (config digest). */
  id: Digest;
  /** The name as the user gave it (`busybox`), shown by `ps` like Docker does. */
  name: string;
}

export type ContainerState =
  | { state: 'created' }
  | { state: 'running' }
  | { state: 'exited'; code: number | undefined; finishedAt: string | undefined };

export interface ContainerRecord {
  /** 64 lowercase hex. */
  id: string;
  name: string;
  image: ContainerImageRef;
  /** Entrypoint + command as run. */
  command: string[];
  created: string;
  startedAt?: string;
  status: ContainerState;
  /** The runtime helper's pid and its start time in clock ticks (guards against pid reuse). */
  pid?: number;
  pidStartTicks?: number;
  autoRemove: boolean;
  /** The image's lower dirs (top-most first) as mounted, for `commit`. */
  lowerDirs: string[];
  /** run -v/--mount/--tmpfs, as Docker's inspect lists them (Mounts), and -p. */
  mounts?: ContainerMount[];
  ports?: { proto: 'tcp' | 'udp'; hostIp: string; hostPort: number; containerPort: number }[];
  /** The cgroup dirs its processes are in (limits), for `exec` to join. */
  cgroups?: string[];
  /** The process as run (for `exec`'s defaults and `inspect`): environment, working dir, user. */
  process?: ContainerProcessConfig;
  /** What `stop` sends first when not told (`run --stop-signal`, else the image's StopSignal); absent: SIGTERM. */
  stopSignal?: string;
}

export interface ContainerMount {
  type: 'bind' | 'volume' | 'tmpfs';
  /** The host path (bind), the volume's name (volume); absent for tmpfs. */
  source?: string;
  destination: string;
  readonly: boolean;
}

export interface ContainerProcessConfig {
  env: string[];
  cwd: string;
  /** As given (`app`, `1000:1000`), and as resolved at run time. */
  userSpec: string;
  user: { uid: number; gid: number; groups: number[] };
  tty: boolean;
  interactive: boolean;
  hostname: string;
}

export interface ContainerPaths {
  dir: string;
  config: string;
  upperDir: string;
  workDir: string;
  mountPoint: string;
  etcDir: string;
  statusFile: string;
  logFile: string;
  /** The helper's spec as run, for `start` of a stopped container (engine/ owns its shape). */
  specFile: string;
  /** `containers/names/<name>`: reserves the name (a symlink to ../<id>). */
  nameLink: string;
}

function containersDir(root: string): string {
  return join(root, 'containers');
}

export function containerPaths(root: string, id: string, name = ''): ContainerPaths {
  const dir = join(containersDir(root), id);
  return {
    dir,
    config: join(dir, 'config.json'),
    upperDir: join(dir, 'upper'),
    workDir: join(dir, 'work'),
    mountPoint: join(dir, 'mnt'),
    etcDir: join(dir, 'etc'),
    statusFile: join(dir, 'status'),
    logFile: join(dir, 'output.log'),
    specFile: join(dir, 'spec.json'),
    nameLink: join(containersDir(root), 'names', name),
  };
}

// A short version of Docker's names-generator lists (moby/pkg/namesgenerator).
const ADJECTIVES = ('admiring adoring affectionate agitated amazing angry awesome beautiful blissful bold boring brave busy ' +
  'charming clever compassionate competent condescending confident cool cranky crazy dazzling determined distracted ' +
  'dreamy eager ecstatic elastic elated elegant eloquent epic exciting fervent festive flamboyant focused friendly ' +
  'frosty funny gallant gifted goofy gracious great happy hardcore heuristic hopeful hungry infallible inspiring ' +
  'intelligent interesting jolly jovial keen kind laughing loving lucid magical modest musing mystifying naughty ' +
  'nervous nice nifty nostalgic objective optimistic peaceful pedantic pensive practical priceless quirky quizzical ' +
  'recursing relaxed reverent romantic sad serene sharp silly sleepy stoic strange stupefied suspicious sweet tender ' +
  'thirsty trusting unruffled upbeat vibrant vigilant vigorous wizardly wonderful xenodochial youthful zealous zen').split(' ');
const SURNAMES = ('agnesi albattani allen almeida archimedes ardinghelli aryabhata austin babbage banach bardeen bartik ' +
  'bassi beaver bell bhabha bhaskara blackwell bohr booth borg bose boyd brahmagupta brattain brown burnell cannon ' +
  'carson cartwright cerf chandrasekhar chatelet chaum chebyshev clarke cohen colden cori cray curie darwin davinci ' +
  'diffie dijkstra dirac driscoll dubinsky easley edison einstein elion engelbart euclid euler faraday feistel fermat ' +
  'fermi feynman franklin gagarin galileo gates gauss germain goldberg goldstine goldwasser golick goodall gould ' +
  'greider grothendieck haibt hamilton haslett hawking heisenberg hellman hermann herschel hertz hodgkin hofstadter ' +
  'hoover hopper hugle hypatia jackson jang jennings jepsen johnson joliot jones kalam kapitsa kare keldysh keller ' +
  'kepler khayyam khorana kilby kirch knuth kowalevski lalande lamarr lamport leakey leavitt lederberg lehmann lewin ' +
  'lichterman liskov lovelace lumiere mahavira margulis matsumoto maxwell mayer mccarthy mcclintock mclaren mclean ' +
  'mcnulty meitner mendel mendeleev meninsky merkle mestorf mirzakhani montalcini moore morse moser murdock napier ' +
  'nash neumann newton nightingale nobel noether northcutt noyce panini pare pascal pasteur payne perlman pike ' +
  'poincare poitras proskuriakova ptolemy raman ramanujan rhodes ride ritchie robinson roentgen rosalind rubin saha ' +
  'sammet sanderson satoshi shamir shannon shaw shirley shockley shtern sinoussi snyder solomon spence stonebraker ' +
  'sutherland swanson swartz swirles taussig tesla tharp thompson torvalds tu turing varahamihira vaughan villani ' +
  'visvesvaraya volhard wescoff wilbur wiles williams williamson wilson wing wozniak wright wu yalow yonath zhukovsky').split(' ');

function randomName(): string {
  const pick = (list: string[]) => list[randomBytes(2).readUInt16BE() % list.length];
  const name = `${pick(ADJECTIVES)}_${pick(SURNAMES)}`;
  return name === 'boring_wozniak' ? randomName() : name; // Steve Wozniak is not boring (moby)
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function isValidName(name: string): boolean {
  return NAME_RE.test(name) && name.length <= 128;
}

/** Reserve `name` for `id`; false when another existing container holds it. */
async function reserveName(root: string, name: string, id: string): Promise<boolean> {
  const link = join(containersDir(root), 'names', name);
  await mkdir(join(containersDir(root), 'names'), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await symlink(`../${id}`, link);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A name whose container dir is gone (e.g. removed by the helper after run --rm) is free.
      const holder = await readlink(link).catch(() => undefined);
      const alive = holder ? await readFile(join(containersDir(root), 'names', holder, 'config.json')).then(() => true, () => false) : false;
      if (alive) return false;
      await unlink(link).catch(() => undefined);
    }
  }
  return false;
}

export class NameInUseError extends Error {
  constructor(readonly containerName: string) {
    super(`the container name "/${containerName}" is already in use`);
  }
}

/** Give the container another name (the old one is freed); NameInUseError when taken. */
export async function renameContainer(root: string, record: ContainerRecord, name: string): Promise<ContainerRecord> {
  if (!(await reserveName(root, name, record.id))) throw new NameInUseError(name);
  const renamed = { ...record, name };
  await saveContainer(root, renamed);
  const old = join(containersDir(root), 'names', record.name);
  if ((await readlink(old).catch(() => undefined)) === `../${record.id}`) await unlink(old).catch(() => undefined);
  return renamed;
}

/** Create the record and its directories. Throws NameInUseError for a taken name. */
export async function createContainer(
  root: string,
  init: { name?: string; image: ContainerImageRef; command: string[]; autoRemove: boolean; lowerDirs: string[] },
): Promise<{ record: ContainerRecord; paths: ContainerPaths }> {
  const id = randomBytes(32).toString('hex');
  let paths = containerPaths(root, id);
  await mkdir(paths.dir, { recursive: true });
  await Promise.all([paths.upperDir, paths.workDir, paths.mountPoint, paths.etcDir].map((d) => mkdir(d)));
  let name = init.name;
  if (name !== undefined) {
    if (!(await reserveName(root, name, id))) {
      await rm(paths.dir, { recursive: true, force: true });
      throw new NameInUseError(name);
    }
  } else {
    do name = randomName();
    while (!(await reserveName(root, name, id)));
  }
  paths = containerPaths(root, id, name);
  const record: ContainerRecord = {
    id,
    name,
    image: init.image,
    command: init.command,
    created: new Date().toISOString(),
    status: { state: 'created' },
    autoRemove: init.autoRemove,
    lowerDirs: init.lowerDirs,
  };
  await writeFileAtomic(paths.config, JSON.stringify(record, null, 2) + '\n');
  return { record, paths };
}

/** Replace the record (read-modify-write by its one owner: the `run` that created it). */
export async function saveContainer(root: string, record: ContainerRecord): Promise<void> {
  await writeFileAtomic(containerPaths(root, record.id).config, JSON.stringify(record, null, 2) + '\n');
}

/** The start time of a process in clock ticks (field 22 of /proc/PID/stat), or undefined. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

/** Is the record's helper still the live process it recorded? */
export function isHelperAlive(record: ContainerRecord): boolean {
  if (record.pid === undefined) return false;
  const ticks = processStartTicks(record.pid);
  return ticks !== undefined && ticks === record.pidStartTicks;
}

async function readStatusFile(root: string, id: string): Promise<ContainerState | undefined> {
  const file = containerPaths(root, id).statusFile;
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const finishedAt = await stat(file).then((s) => s.mtime.toISOString(), () => undefined);
  const line = text.trim();
  const m = /^(exited|signaled) (\d+)$/.exec(line);
  const code = m ? (m[1] === 'exited' ? Number(m[2]) : 128 + Number(m[2])) : /^exec /.test(line) ? 127 : 125;
  return { state: 'exited', code, finishedAt };
}

/** The record with its state made true: running only while its helper lives. */
async function settle(root: string, record: ContainerRecord): Promise<ContainerRecord> {
  if (record.status.state !== 'running' || isHelperAlive(record)) return record;
  const fromHelper = await readStatusFile(root, record.id);
  return { ...record, status: fromHelper ?? { state: 'exited', code: undefined, finishedAt: undefined } };
}

async function readRecord(root: string, id: string): Promise<ContainerRecord | undefined> {
  const text = await readFile(containerPaths(root, id).config, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  return settle(root, JSON.parse(text) as ContainerRecord);
}

/** Drop name links whose container is gone (a --rm helper killed before it could). */
async function sweepNames(root: string): Promise<void> {
  const dir = join(containersDir(root), 'names');
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const target = await readlink(join(dir, name)).catch(() => undefined);
    if (target === undefined) continue;
    const alive = await readFile(join(dir, target, 'config.json')).then(() => true, () => false);
    if (!alive) await unlink(join(dir, name)).catch(() => undefined);
  }
}

/** All containers, newest first. Gone `--rm` containers are removed on the way. */
export async function listContainers(root: string): Promise<ContainerRecord[]> {
  const names = await readdir(containersDir(root)).catch(() => [] as string[]);
  const out: ContainerRecord[] = [];
  for (const id of names.filter((n) => /^[a-f0-9]{64}$/.test(n))) {
    const record = await readRecord(root, id);
    if (!record) continue;
    if (record.autoRemove && record.status.state === 'exited') {
      await removeContainer(root, record);
      continue;
    }
    out.push(record);
  }
  await sweepNames(root);
  return out.sort((a, b) => compareCodeUnits(b.created, a.created));
}

/** Find by full id, unique id prefix, or name. Throws on an ambiguous prefix. */
export async function findContainer(root: string, ref: string): Promise<ContainerRecord | undefined> {
  const all = await listContainers(root);
  const byName = all.find((c) => c.name === ref || `/${c.name}` === ref);
  if (byName) return byName;
  if (!/^[a-f0-9]+$/.test(ref)) return undefined;
  const matches = all.filter((c) => c.id.startsWith(ref));
  if (matches.length > 1) throw new AmbiguousContainerError(ref);
  return matches[0];
}

export class AmbiguousContainerError extends Error {
  constructor(readonly ref: string) {
    super(`multiple containers found with provided prefix: ${ref}`);
  }
}

/** Delete the container's directory and name. The caller made sure it is not running. */
export async function removeContainer(root: string, record: ContainerRecord): Promise<void> {
  const link = join(containersDir(root), 'names', record.name);
  if ((await readlink(link).catch(() => undefined)) === `../${record.id}`) await unlink(link).catch(() => undefined);
  await rm(containerPaths(root, record.id).dir, { recursive: true, force: true });
}

/** Record the exit (unless the helper already removed a --rm container). */
export async function markExited(root: string, record: ContainerRecord, code: number): Promise<ContainerRecord> {
  const now = await readFile(containerPaths(root, record.id).config, 'utf8').then((t) => JSON.parse(t) as ContainerRecord, () => undefined);
  // a `rename` while it ran changed the name on disk: keep it
  const done: ContainerRecord = { ...record, name: now?.name ?? record.name, status: { state: 'exited', code, finishedAt: new Date().toISOString() } };
  if (now) await saveContainer(root, done);
  return done;
}
