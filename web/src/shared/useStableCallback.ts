/**
 * A function that keeps its identity across renders and always calls the latest `callback`:
 * a handler handed to memoized children (list rows, filter selects) that does not make them
 * render again each time the parent does.
 */
import { useCallback, useLayoutEffect, useRef } from "react";

export function useStableCallback<A extends unknown[], R>(
  callback: (...args: A) => R,
): (...args: A) => R {
  const latest = useRef(callback);
  useLayoutEffect(() => {
    latest.current = callback;
  });
  return useCallback((...args: A) => latest.current(...args), []);
}
