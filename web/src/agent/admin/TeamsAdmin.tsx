/** Teams (managers): make a team with its tier; per team the members, the lead, the tier and
 * the team it escalates to (L1 → L2 → L3, seed 001). Saving sends only what changed. */
import {
  Button,
  Group,
  MultiSelect,
  NumberInput,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, unwrap, type Schemas, type Team } from "../../shared/api/client";
import { useAgents, useTeams } from "../data";
import { FormCard, SaveResult, useSavingItem } from "./common";

const TIERS = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];

function CreateTeam() {
  const { t } = useTranslation();
  const [name, setName] = useState("");
  const [tier, setTier] = useState<number | string>(1);
  const create = useSavingItem(
    async (body: Schemas["CreateTeamBody"]) => unwrap(await api.POST("/teams", { body })),
    ["teams"],
  );
  const submit = () =>
    create.mutate(
      { name, tier: typeof tier === "number" ? tier : null },
      { onSuccess: () => setName("") },
    );
  return (
    <FormCard title={t("admin.teams.create")} onSubmit={submit}>
      <Group align="end">
        <TextInput
          label={t("admin.teams.name")}
          required
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
        />
        <NumberInput
          label={t("admin.teams.tier")}
          min={1}
          max={9}
          value={tier}
          onChange={setTier}
          w={100}
        />
        <Button type="submit" loading={create.isPending}>
          {t("admin.teams.submit")}
        </Button>
      </Group>
      <SaveResult error={create.error} done={create.isSuccess} />
    </FormCard>
  );
}

interface TeamDraft {
  members: string[];
  lead: string | null;
  tier: string | null;
  escalatesTo: string | null;
}

/** Sends what changed; the answer is the team as the last change left it (unchanged: none). */
async function saveTeam(team: Team, draft: TeamDraft): Promise<Team | undefined> {
  const path = { params: { path: { team_id: team.id } } };
  const before = new Set(team.members.map((m) => m.id));
  const after = new Set(draft.members);
  let saved: Team | undefined;
  for (const id of after) {
    if (!before.has(id)) {
      saved = unwrap(
        await api.PUT("/teams/{team_id}/members/{agent_id}", {
          params: { path: { team_id: team.id, agent_id: id } },
        }),
      );
    }
  }
  for (const id of before) {
    if (!after.has(id) && id !== draft.lead) {
      saved = unwrap(
        await api.DELETE("/teams/{team_id}/members/{agent_id}", {
          params: { path: { team_id: team.id, agent_id: id } },
        }),
      );
    }
  }
  const tier = draft.tier ? Number(draft.tier) : null;
  if (tier !== (team.tier ?? null) || draft.escalatesTo !== (team.escalates_to ?? null)) {
    saved = unwrap(
      await api.PATCH("/teams/{team_id}", {
        ...path,
        body: { tier, escalates_to: draft.escalatesTo },
      }),
    );
  }
  if (draft.lead !== (team.lead_id ?? null)) {
    saved = unwrap(
      await api.PUT("/teams/{team_id}/lead", { ...path, body: { agent_id: draft.lead } }),
    );
  }
  return saved;
}

function TeamCard({ team, teams }: { team: Team; teams: Team[] }) {
  const { t } = useTranslation();
  const agents = useAgents();
  const [draft, setDraft] = useState<TeamDraft>({
    members: team.members.map((m) => m.id),
    lead: team.lead_id ?? null,
    tier: team.tier ? String(team.tier) : null,
    escalatesTo: team.escalates_to ?? null,
  });
  const save = useSavingItem((d: TeamDraft) => saveTeam(team, d), ["teams"]);
  const agentChoices = (agents.data ?? []).map((a) => ({ value: a.id, label: a.name }));
  const memberChoices = agentChoices.filter((a) => draft.members.includes(a.value));
  const label = (text: string) => `${text} (${team.name})`;
  return (
    <Paper withBorder p="md" data-testid="team-card">
      <Title order={3} size="h4" mb="sm">
        {team.name}
      </Title>
      <Stack gap="xs">
        <MultiSelect
          label={label(t("admin.teams.members"))}
          data={agentChoices}
          value={draft.members}
          onChange={(members) => setDraft({ ...draft, members })}
          searchable
        />
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <Select
            label={label(t("admin.teams.lead"))}
            data={memberChoices}
            value={draft.lead}
            onChange={(lead) => setDraft({ ...draft, lead })}
            clearable
            placeholder={t("admin.none")}
          />
          <Select
            label={label(t("admin.teams.tier"))}
            data={TIERS.map((n) => ({ value: n, label: t("admin.teams.tierValue", { tier: n }) }))}
            value={draft.tier}
            onChange={(tier) => setDraft({ ...draft, tier })}
            clearable
            placeholder={t("admin.none")}
          />
          <Select
            label={label(t("admin.teams.escalatesTo"))}
            data={teams
              .filter((o) => o.id !== team.id)
              .map((o) => ({ value: o.id, label: o.name }))}
            value={draft.escalatesTo}
            onChange={(escalatesTo) => setDraft({ ...draft, escalatesTo })}
            clearable
            placeholder={t("admin.none")}
          />
        </SimpleGrid>
        <Group>
          <Button onClick={() => save.mutate(draft)} loading={save.isPending}>
            {t("admin.save")}
          </Button>
          <SaveResult error={save.error} done={save.isSuccess} />
        </Group>
      </Stack>
    </Paper>
  );
}

export default function TeamsAdmin() {
  const { t } = useTranslation();
  const teams = useTeams();
  const all = teams.data ?? [];
  return (
    <Stack>
      <CreateTeam />
      {all.length === 0 && <Text>{t("admin.teams.noTeams")}</Text>}
      {all.map((team) => (
        <TeamCard key={`${team.id}:${team.version}`} team={team} teams={all} />
      ))}
    </Stack>
  );
}
