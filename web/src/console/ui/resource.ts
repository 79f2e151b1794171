// Loading what a page shows: a signal of the data, its error and a reload, so a page reads
// `r.data.value` and never juggles flags; and one place that notices a sign-in has ended.
import { signal, type Signal } from "@preact/signals";
import { useEffect, useMemo, useRef } from "preact/hooks";
import { ApiError } from "../../core/api";

let unauthorized: () => void = () => {};

/** What to do when the API answers 401: the sign-in expired or was ended elsewhere. */
export function onUnauthorized(f: () => void): void {
  unauthorized = f;
}

/** Reports a 401 to the shell; answers the error for the caller to show otherwise. */
export function checked(e: unknown): unknown {
  if (e instanceof ApiError && e.status === 401) unauthorized();
  return e;
}

export interface Resource<T> {
  data: Signal<T | null>;
  error: Signal<ApiError | null>;
  loading: Signal<boolean>;
  reload: () => Promise<void>;
}

/** Loads `load()` when the component mounts and when `deps` change; `reload()` again later. */
export function useResource<T>(load: () => Promise<T>, deps: unknown[] = []): Resource<T> {
  // The latest closure, so a reload after a filter change asks with the new filter.
  const latest = useRef(load);
  latest.current = load;
  const r = useMemo<Resource<T>>(() => {
    const data = signal<T | null>(null);
    const error = signal<ApiError | null>(null);
    const loading = signal(false);
    // Only the last request's answer counts: a slow old one never overwrites a new one.
    let generation = 0;
    const reload = async () => {
      const mine = ++generation;
      loading.value = true;
      try {
        const value = await latest.current();
        if (mine !== generation) return;
        data.value = value;
        error.value = null;
      } catch (e) {
        if (mine !== generation) return;
        error.value = toApiError(checked(e));
      } finally {
        if (mine === generation) loading.value = false;
      }
    };
    return { data, error, loading, reload };
  }, []);
  useEffect(() => {
    void r.reload();
  }, deps);
  return r;
}

/** Any thrown value as an ApiError (a bug's exception becomes one without a field). */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError(0, "client", null, e instanceof Error ? e.message : String(e), null);
}

/** Polls `f` every `ms` while the page is open and visible (monitoring's refresh). */
export function usePoll(f: () => void, ms: number, deps: unknown[] = []): void {
  useEffect(() => {
    const tick = () => {
      if (document.visibilityState === "visible") f();
    };
    const id = setInterval(tick, ms);
    document.addEventListener("visibilitychange", tick);
    return () => {
      clearInterval(id);
      document.removeEventListener("visibilitychange", tick);
    };
  }, deps);
}
