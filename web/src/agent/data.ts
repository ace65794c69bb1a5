/** Server state of the agent portal (TanStack Query): lookups shared by every screen. */
import { queryOptions, useQuery, type QueryClient } from "@tanstack/react-query";
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import { api, unwrap, type Agent, type Team, type TicketOptions } from "../shared/api/client";

const LOOKUP_STALE_MS = 5 * 60_000;

export const ticketOptionsQuery = queryOptions({
  queryKey: ["ticket-options"],
  queryFn: async (): Promise<TicketOptions> => unwrap(await api.GET("/ticket-options")),
  staleTime: LOOKUP_STALE_MS,
});

export const agentsQuery = queryOptions({
  queryKey: ["agents"],
  queryFn: async (): Promise<Agent[]> =>
    unwrap(await api.GET("/agents", { params: { query: { page_size: 200 } } })).items,
  staleTime: LOOKUP_STALE_MS,
});

export const teamsQuery = queryOptions({
  queryKey: ["teams"],
  queryFn: async (): Promise<Team[]> =>
    unwrap(await api.GET("/teams", { params: { query: { page_size: 200 } } })).items,
  staleTime: LOOKUP_STALE_MS,
});

/** The signed-in agent's directory record (null when the token has none: "mine" is off then). */
export const meQuery = queryOptions({
  queryKey: ["agents", "me"],
  queryFn: async (): Promise<Agent | null> => {
    const result = await api.GET("/agents/me");
    if (result.response.status === 404) return null;
    return unwrap(result);
  },
  staleTime: LOOKUP_STALE_MS,
});

export function useTicketOptions() {
  return useQuery(ticketOptionsQuery);
}

export function useAgents() {
  return useQuery(agentsQuery);
}

export function useTeams() {
  return useQuery(teamsQuery);
}

export function useMe() {
  return useQuery(meQuery);
}

/** Ask for every lookup the shell and the list show, all at once (e.g. right at sign-in). */
export function prefetchLookups(queryClient: QueryClient): void {
  // A failure is the screens' to show: their own queries ask again.
  const ignore = () => undefined;
  queryClient.query(ticketOptionsQuery).catch(ignore);
  queryClient.query(agentsQuery).catch(ignore);
  queryClient.query(teamsQuery).catch(ignore);
  queryClient.query(meQuery).catch(ignore);
}

export function nameOf(
  items: { id: string; name: string }[] | undefined,
  id: string | null | undefined,
): string | null {
  if (!id) return null;
  return items?.find((item) => item.id === id)?.name ?? null;
}

export interface Choice {
  value: string;
  label: string;
}

/** Statuses and priorities of the ticket options as translated select choices. */
export function useOptionChoices(): { statuses: Choice[]; priorities: Choice[] } {
  const { t } = useTranslation();
  const options = useTicketOptions().data;
  // The same arrays until the options or the language change (memoized selects keep still).
  return useMemo(
    () => ({
      statuses: (options?.statuses ?? []).map((s) => ({
        value: s.name,
        label: t(`status.${s.name}`, { defaultValue: s.name }),
      })),
      priorities: (options?.priorities ?? []).map((p) => ({
        value: p,
        label: t(`priority.${p}`, { defaultValue: p }),
      })),
    }),
    [options, t],
  );
}

/** Agents to choose from: the team's members when a team is chosen, else every agent. */
export function useAgentChoices(teamId: string | null): Choice[] {
  const agents = useAgents();
  const teams = useTeams();
  const team = teams.data?.find((candidate) => candidate.id === teamId);
  if (team) {
    return team.members.map((member) => ({
      value: member.id,
      label: member.name ?? member.email ?? member.id,
    }));
  }
  return (agents.data ?? []).map((agent) => ({ value: agent.id, label: agent.name }));
}
