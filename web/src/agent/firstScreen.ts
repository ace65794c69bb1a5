/**
 * The first screen's requests, sent the moment a session exists (the sign-in answer, or the
 * refresh cookie of an earlier visit): the lookups the shell and the list show, and the list's
 * first page when the list is what opens. Without this they leave only after React has
 * rendered the shell and the list and run their effects (issue #17: sign-in → first row).
 */
import type { QueryClient } from "@tanstack/react-query";
import { session } from "../shared/auth/session";
import { prefetchLookups } from "./data";
import { prefetchList } from "./listQuery";

/** The list's path under the app's base (`/agent/`): the list opens at the root. */
function listOpens(): boolean {
  const base = import.meta.env.BASE_URL.replace(/\/$/, "");
  const path = window.location.pathname.slice(base.length);
  return path === "" || path === "/";
}

/** Start the first screen's requests on each sign-in (not on the token's silent renewals). */
export function prefetchOnSignIn(queryClient: QueryClient): () => void {
  let signedIn = session.current.status === "signed-in";
  return session.subscribe((state) => {
    const now = state.status === "signed-in";
    if (now && !signedIn) {
      prefetchLookups(queryClient);
      if (listOpens()) prefetchList(queryClient, new URLSearchParams(window.location.search));
    }
    signedIn = now;
  });
}
