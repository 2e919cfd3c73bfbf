import { openStore, type Store } from '../store/index.js';
import type { Settings } from './settings.js';

/** An API call's store: an open Store, the root of one, or (undefined) the settings' root. */
export type StoreOption = Store | string | undefined;

export function openStoreOf(option: StoreOption, settings: Settings): Promise<Store> {
  if (option !== undefined && typeof option !== 'string') return Promise.resolve(option);
  return openStore(option ?? settings.root);
}
