import { useEffect, useState } from 'preact/hooks';
import type { DemoStore } from './store';

/** Re-renders the component whenever the store changes. */
export function useStore(store: DemoStore): DemoStore {
  const [, setVersion] = useState(0);
  useEffect(() => store.subscribe(() => setVersion((v) => v + 1)), [store]);
  return store;
}
