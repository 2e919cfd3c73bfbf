import { join } from 'node:path';
import { AmbiguousContainerError, type ContainerRecord, type Store } from '../store/index.js';

/**
 * `inspect` of a container: Docker's container inspect JSON, the fields tsbuild has a value
 * for (State, Path/Args, Image, Name, Config, LogPath), from the container's record.
 */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Docker's `{"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}`. */
function portMap(ports: NonNullable<ContainerRecord['ports']>): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports) (out[`${p.containerPort}/${p.proto}`] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  return out;
}

/** The container `ref` names (name, id or unique id prefix), undefined when none or ambiguous. */
export async function inspectContainer(store: Store, ref: string): Promise<unknown | undefined> {
  const c = await store.containers.find(ref).catch((e: unknown) => {
    if (e instanceof AmbiguousContainerError) return undefined;
    throw e;
  });
  if (c === undefined) return undefined;
  const s = c.status;
  return {
    Id: c.id,
    Created: c.created,
    Path: c.command[0] ?? '',
    Args: c.command.slice(1),
    State: {
      Status: s.state,
      Running: s.state === 'running',
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: s.state === 'running' ? c.pid ?? 0 : 0,
      ExitCode: s.state === 'exited' ? s.code ?? 0 : 0,
      Error: '',
      StartedAt: c.startedAt ?? ZERO_TIME,
      FinishedAt: s.state === 'exited' ? s.finishedAt ?? ZERO_TIME : ZERO_TIME,
    },
    Image: c.image.id,
    Name: `/${c.name}`,
    RestartCount: 0,
    LogPath: store.containers.paths(c.id).logFile,
    Config: {
      Hostname: c.process?.hostname ?? c.id.slice(0, 12),
      User: c.process?.userSpec ?? '',
      Tty: c.process?.tty ?? false,
      OpenStdin: c.process?.interactive ?? false,
      Env: c.process?.env ?? [],
      Cmd: c.command,
      Image: c.image.name,
      WorkingDir: c.process?.cwd ?? '',
      ...(c.stopSignal ? { StopSignal: c.stopSignal } : {}),
    },
    HostConfig: { AutoRemove: c.autoRemove, PortBindings: portMap(c.ports ?? []) },
    Mounts: (c.mounts ?? []).map((m) => ({
      Type: m.type,
      ...(m.type === 'volume' ? { Name: m.source } : {}),
      Source: m.type === 'volume' ? join(store.root, 'volumes', m.source!, '_data') : m.source ?? '',
      Destination: m.destination,
      Mode: m.readonly ? 'ro' : '',
      RW: !m.readonly,
      Propagation: m.type === 'bind' ? 'rprivate' : '',
    })),
    NetworkSettings: { Ports: portMap(c.ports ?? []) },
  };
}
