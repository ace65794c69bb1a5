/** Server state of the agent portal (TanStack Query): lookups shared by every screen. */
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, unwrap, type Agent, type Team, type TicketOptions } from "../shared/api/client";

const LOOKUP_STALE_MS = 5 * 60_000;

export function useTicketOptions() {
  return useQuery({
    queryKey: ["ticket-options"],
    queryFn: async (): Promise<TicketOptions> => unwrap(await api.GET("/ticket-options")),
    staleTime: LOOKUP_STALE_MS,
  });
}

export function useAgents() {
  return useQuery({
    queryKey: ["agents"],
    queryFn: async (): Promise<Agent[]> =>
      unwrap(await api.GET("/agents", { params: { query: { page_size: 200 } } })).items,
    staleTime: LOOKUP_STALE_MS,
  });
}

export function useTeams() {
  return useQuery({
    queryKey: ["teams"],
    queryFn: async (): Promise<Team[]> =>
      unwrap(await api.GET("/teams", { params: { query: { page_size: 200 } } })).items,
    staleTime: LOOKUP_STALE_MS,
  });
}

/** The signed-in agent's directory record (null when the token has none: "mine" is off then). */
export function useMe() {
  return useQuery({
    queryKey: ["agents", "me"],
    queryFn: async (): Promise<Agent | null> => {
      const result = await api.GET("/agents/me");
      if (result.response.status === 404) return null;
      return unwrap(result);
    },
    staleTime: LOOKUP_STALE_MS,
  });
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
  const options = useTicketOptions();
  return {
    statuses: (options.data?.statuses ?? []).map((s) => ({
      value: s.name,
      label: t(`status.${s.name}`, { defaultValue: s.name }),
    })),
    priorities: (options.data?.priorities ?? []).map((p) => ({
      value: p,
      label: t(`priority.${p}`, { defaultValue: p }),
    })),
  };
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
