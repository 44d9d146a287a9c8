// Loading what a page shows: the latest answer, its failure, and a way to ask again.
import { useCallback, useEffect, useRef, useState } from "react";
import { problem } from "./format";

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  reload: () => Promise<void>;
}

export function useLoad<T>(read: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Only the latest request may write: an older, slower answer is dropped.
  const latest = useRef(0);
  const load = useCallback(read, deps);
  const reload = useCallback(async () => {
    const mine = ++latest.current;
    try {
      const found = await load();
      if (mine === latest.current) {
        setData(found);
        setError(null);
      }
    } catch (failure) {
      if (mine === latest.current) setError(problem(failure));
    }
  }, [load]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, reload };
}
