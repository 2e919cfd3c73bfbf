import { UserError } from '../common/index.js';
import type { ContainerMount, Store } from '../store/index.js';
import type { FailedStep, FailedStepHandler } from '../executor/index.js';

/** What `build --on-error` does with a failed step: fail (default), a shell in it, or keep it as a container. */
export type OnError = 'fail' | 'shell' | 'keep';

/** The shell a failed step's state is entered with (BuildKit's debug shell is /bin/sh too). */
export const DEBUG_SHELL = ['/bin/sh'];

export const failedStepMessages = {
  'look-inside': () => 'build again with --on-error=shell for a shell in the failed step, or --on-error=keep to keep it as a container',
  kept: (id: string) =>
    `the failed step is kept as container ${id}: enter it with \`tsbuild run -it --from-container ${id}\`, remove it with \`tsbuild rm ${id}\``,
  'shell-start': (what: string) => `${what}: a shell in its state; exit the shell to end the build`,
  'not-kept': (targets: string[]) =>
    `not kept with the container (they live only while the build runs): the mounts at ${targets.join(', ')}`,
  'shell-failed': (message: string) => `the shell in the failed step could not start: ${message}`,
} satisfies Record<string, (...args: never[]) => string>;

/** The handler the executor calls, and the container a `keep` made (for the failure message). */
export function failedStepHandler(
  onError: Exclude<OnError, 'fail'>,
  store: Store,
  message: (line: string) => void,
): { handle: FailedStepHandler; kept(): string | undefined } {
  let keptId: string | undefined;
  const handle: FailedStepHandler = async (failed) => {
    if (onError === 'keep') keptId = await keepFailedStep(store, failed, message);
    else await shellIn(failed, message);
  };
  return { handle, kept: () => keptId };
}

async function shellIn(failed: FailedStep, message: (line: string) => void): Promise<void> {
  const { failedStepSpec, runContainer } = await import('../executor/index.js');
  const what = failed.kind === 'run' ? `RUN failed (exit code ${failed.exitCode})` : 'COPY failed; the state before it';
  message(failedStepMessages['shell-start'](what));
  const result = await runContainer(failedStepSpec(failed, DEBUG_SHELL, { tty: true, interactive: true }), {
    stdin: 'inherit',
    stdout: 'inherit',
    stderr: 'inherit',
  });
  if (result.kind === 'setup-failed') message(failedStepMessages['shell-failed'](result.message));
}

/**
 * The failed step as a stopped container: an image of the stage so far (unnamed; the
 * container keeps it from a prune), the step's upper dir copied into the container's own,
 * its process settings and the mounts that outlive the build. Returns its id.
 */
async function keepFailedStep(store: Store, failed: FailedStep, message: (line: string) => void): Promise<string> {
  const { copyTree, adoptCopyRootfs } = await import('../executor/index.js');
  const image = await store.writeImage({ config: failed.config, layers: failed.layers, names: [] });
  // The store's own layer dirs: the build's in-memory ones are gone when it ends.
  const bottomFirst = await Promise.all(failed.layers.map((l, i) => store.layerDir(failed.config.rootfs.diff_ids[i], l)));
  const { record, paths } = await store.containers.create({
    image: { id: image.id, name: image.id.slice('sha256:'.length, 'sha256:'.length + 12) },
    command: DEBUG_SHELL,
    autoRemove: false,
    lowerDirs: bottomFirst.reverse(),
  });
  try {
    // The copy snapshotter's step copy is the whole filesystem: it becomes the container's.
    if (failed.rootDir) await adoptCopyRootfs(failed.rootDir, paths.upperDir);
    else await copyTree(failed.upperDir, paths.upperDir);
    const mounts: ContainerMount[] = [
      ...failed.binds.filter((b) => b.lasting).map((b) => ({ type: 'bind' as const, source: b.source, destination: b.target, readonly: b.readonly })),
      ...failed.tmpfs.map((t) => ({ type: 'tmpfs' as const, destination: t.target, readonly: false })),
    ];
    const kept = {
      ...record,
      mounts,
      process: { env: failed.env, cwd: failed.cwd, userSpec: failed.userSpec, user: failed.user, tty: true, interactive: true, hostname: failed.hostname },
    };
    await store.containers.save(kept);
    await store.containers.markExited(kept, failed.exitCode ?? 0);
    const gone = failed.binds.filter((b) => !b.lasting).map((b) => b.target);
    if (gone.length) message(failedStepMessages['not-kept'](gone));
    return record.id;
  } catch (e) {
    await store.containers.remove(record);
    throw e;
  }
}

/** A failed build's error with what to do next: the option to look inside, or the kept container. */
export function withFailedStepHint(e: unknown, onError: OnError, keptId: string | undefined): unknown {
  if (!(e instanceof UserError)) return e;
  const hint = keptId ? failedStepMessages.kept(keptId.slice(0, 12)) : onError === 'fail' && isStepFailure(e.code) ? failedStepMessages['look-inside']() : undefined;
  if (!hint) return e;
  return new UserError(e.code, e.message, { where: e.where, detail: e.detail, exitCode: e.exitCode, hint: keptId ? hint : (e.hint ?? hint) });
}

/** Failures of a RUN's command (the ones a shell in the step helps with). */
function isStepFailure(code: string): boolean {
  return code === 'run-failed';
}
