/**
 * A versioned resource as the admin screens edit it: the SLA configuration, the assignment
 * rules, the team routing, the ticket options. Each read carries the resource's version in its
 * ETag ("N"); each change names the version it was decided on (If-Match) and the API refuses it
 * with a 409 when the resource moved on meanwhile. One hook reads, one changes, so every screen
 * gets the same rules:
 * - a change names the newest version the page knows: any read's ETag, or an earlier change's
 *   answer (a change answers with the version it made while the reads are still being
 *   refetched, so a second change made at once - a calendar deleted, then the holiday list it
 *   linked - is not refused as a conflict);
 * - refused or not, every read of the resource is refetched: after a 409 the next try sees the
 *   change that caused it.
 */
import {
  useMutation,
  useQuery,
  useQueryClient,
  type QueryClient,
  type QueryKey,
} from "@tanstack/react-query";
import { unwrap } from "../../shared/api/client";

export interface VersionedResource {
  /** Names where the version of this page's last change is kept (no query reads it). */
  name: string;
  /** The reads that carry the resource's version (one version for all of them). */
  reads: QueryKey[];
  /** Other reads a change alters (refetched too, versions not looked at). */
  alsoRefresh?: QueryKey[];
}

/** A read as openapi-fetch answers it. */
interface Answer<A> {
  data?: A;
  error?: unknown;
  response: Response;
}

export function etagOf(response: Response): string {
  return response.headers.get("ETag") ?? "";
}

/** One read of a resource: the API's answer (or what ``pick`` takes from it) and its ETag. */
export function useVersionedRead<A, T = A>(
  key: QueryKey,
  read: () => Promise<Answer<A>>,
  pick: (answer: A) => T = (answer) => answer as unknown as T,
) {
  return useQuery({
    queryKey: key,
    queryFn: async () => {
      const result = await read();
      return { value: pick(unwrap(result)), etag: etagOf(result.response) };
    },
  });
}

function changedAt(resource: VersionedResource): QueryKey {
  return ["versioned-change", resource.name];
}

function versionOf(etag: string | undefined): number {
  const version = Number((etag ?? "").replace(/"/g, ""));
  return Number.isInteger(version) && etag ? version : -1;
}

/** The newest version of the resource this page has seen: in any read's ETag or a change's answer. */
function newestEtag(queryClient: QueryClient, resource: VersionedResource): string {
  const read = resource.reads.flatMap((key) =>
    queryClient
      .getQueriesData<{ etag?: string }>({ queryKey: key })
      .map(([, data]) => versionOf(data?.etag)),
  );
  const made = queryClient.getQueryData<number>(changedAt(resource)) ?? -1;
  const newest = Math.max(made, ...read);
  return newest < 0 ? "" : `"${newest}"`;
}

/** A change to the resource, decided on the newest version this page knows (``ifMatch``). */
export function useVersionedChange<V, R = unknown>(
  resource: VersionedResource,
  run: (vars: V, ifMatch: string) => Promise<R>,
) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (vars: V) => run(vars, newestEtag(queryClient, resource)),
    onSuccess: (answer) => {
      const made =
        typeof answer === "object" && answer !== null && "version" in answer
          ? answer.version
          : undefined;
      if (typeof made === "number") {
        queryClient.setQueryData<number>(changedAt(resource), (known) =>
          Math.max(known ?? -1, made),
        );
      }
    },
    onSettled: async () => {
      const keys = [...resource.reads, ...(resource.alsoRefresh ?? [])];
      await Promise.all(keys.map((key) => queryClient.invalidateQueries({ queryKey: key })));
    },
  });
}
