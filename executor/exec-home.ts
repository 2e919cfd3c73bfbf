import type { ExecStep } from '../planner/index.js';
import type { Store } from '../store/index.js';
import { layerDirs, withRootfsView, type LayerDirSource } from './rootfs-view.js';
import type { StageState } from './stage-state.js';
import { resolveHome } from './user.js';

/**
 * A RUN's HOME: unless its environment has one (ENV, an ARG, the base image), the home of
 * the step's user in the image's /etc/passwd (`/` without an entry), as runc sets it for
 * BuildKit's RUN (libcontainer's setupUser). It comes from the rootfs, so it is not in the
 * cache key: the parent key already covers the rootfs and USER.
 */
export async function withHome(step: ExecStep, state: StageState, deps: { store: Store; layers: LayerDirSource }): Promise<ExecStep> {
  if (step.env.some((e) => e === 'HOME' || e.startsWith('HOME='))) return step;
  const lowers = await layerDirs(deps.layers, state.layers, state.config.rootfs.diff_ids);
  const home = await withRootfsView(deps.store, lowers, (root) => resolveHome(step.user || '0', root));
  return { ...step, env: [...step.env, `HOME=${home}`] };
}
