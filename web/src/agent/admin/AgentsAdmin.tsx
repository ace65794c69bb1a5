/** Agents (managers): invite by email with a role, change role and availability,
 * deactivate and reactivate (each cell its own change and its own error). The gateway mails the
 * invitation on the AgentInvited event. */
import { Button, Group, Select, Stack, TextInput, Title, VisuallyHidden } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, unwrap, type Agent, type Schemas } from "../../shared/api/client";
import { useAgents } from "../data";
import { FormCard, ItemsTable, SaveResult, useSavingItem } from "./common";

type Role = Schemas["AgentRole"];
type Availability = Schemas["Availability"];
const ROLES: Role[] = ["agent", "technician", "manager"];
const AVAILABILITIES: Availability[] = ["active", "away", "unavailable"];

function InviteForm() {
  const { t } = useTranslation();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("agent");
  const invite = useSavingItem(
    async (body: Schemas["InviteAgentBody"]) => unwrap(await api.POST("/agents", { body })),
    ["agents"],
  );
  const submit = () =>
    invite.mutate(
      { email, name, role },
      {
        onSuccess: () => {
          setEmail("");
          setName("");
        },
      },
    );
  return (
    <FormCard title={t("admin.agents.invite")} onSubmit={submit}>
      <Group align="end">
        <TextInput
          label={t("admin.agents.email")}
          type="email"
          required
          value={email}
          onChange={(e) => setEmail(e.currentTarget.value)}
        />
        <TextInput
          label={t("admin.agents.name")}
          required
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
        />
        <Select
          label={t("admin.agents.role")}
          data={ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))}
          value={role}
          onChange={(value) => value && setRole(value)}
          allowDeselect={false}
        />
        <Button type="submit" loading={invite.isPending}>
          {t("admin.agents.submit")}
        </Button>
      </Group>
      <SaveResult error={invite.error} done={invite.isSuccess} />
    </FormCard>
  );
}

/** A change to one agent (role, active); the answer is the agent as saved. */
function useAgentChange(agent: Agent) {
  return useSavingItem(
    async (body: Schemas["ChangeAgentBody"]) =>
      unwrap(
        await api.PATCH("/agents/{agent_id}", { params: { path: { agent_id: agent.id } }, body }),
      ),
    ["agents"],
  );
}

function RoleCell({ agent }: { agent: Agent }) {
  const { t } = useTranslation();
  const change = useAgentChange(agent);
  return (
    <>
      <Select
        aria-label={t("admin.agents.roleOf", { name: agent.name })}
        data={ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))}
        value={agent.role}
        allowDeselect={false}
        onChange={(value) => value && change.mutate({ role: value })}
        w={150}
      />
      {change.error && <SaveResult error={change.error} done={false} />}
    </>
  );
}

function AvailabilityCell({ agent }: { agent: Agent }) {
  const { t } = useTranslation();
  const available = useSavingItem(
    async (availability: Availability) =>
      unwrap(
        await api.PUT("/agents/{agent_id}/availability", {
          params: { path: { agent_id: agent.id } },
          body: { availability },
        }),
      ),
    ["agents"],
  );
  return (
    <>
      <Select
        aria-label={t("admin.agents.availabilityOf", { name: agent.name })}
        data={AVAILABILITIES.map((a) => ({ value: a, label: t(`admin.availability.${a}`) }))}
        value={agent.availability}
        allowDeselect={false}
        onChange={(value) => value && available.mutate(value)}
        w={150}
      />
      {available.error && <SaveResult error={available.error} done={false} />}
    </>
  );
}

function ActiveCell({ agent }: { agent: Agent }) {
  const { t } = useTranslation();
  const change = useAgentChange(agent);
  return (
    <>
      <Button
        size="xs"
        variant="default"
        loading={change.isPending}
        aria-label={t(
          agent.active ? "admin.agents.deactivateName" : "admin.agents.reactivateName",
          {
            name: agent.name,
          },
        )}
        onClick={() => change.mutate({ active: !agent.active })}
      >
        {agent.active ? t("admin.agents.deactivate") : t("admin.agents.reactivate")}
      </Button>
      {change.error && <SaveResult error={change.error} done={false} />}
    </>
  );
}

export default function AgentsAdmin() {
  const { t } = useTranslation();
  const agents = useAgents();
  return (
    <Stack>
      <InviteForm />
      <Title order={3} size="h4">
        {t("admin.agents.list")}
      </Title>
      <ItemsTable
        rows={agents.data ?? []}
        rowKey={(agent) => agent.id}
        testId="agent-row"
        columns={[
          { heading: t("admin.agents.name"), cell: (agent) => agent.name },
          { heading: t("admin.agents.email"), cell: (agent) => agent.email },
          { heading: t("admin.agents.role"), cell: (agent) => <RoleCell agent={agent} /> },
          {
            heading: t("admin.agents.availability"),
            cell: (agent) => <AvailabilityCell agent={agent} />,
          },
          {
            heading: t("admin.agents.status"),
            cell: (agent) => (agent.active ? t("admin.agents.active") : t("admin.agents.inactive")),
          },
          {
            heading: <VisuallyHidden>{t("admin.agents.deactivate")}</VisuallyHidden>,
            cell: (agent) => <ActiveCell agent={agent} />,
          },
        ]}
        empty={agents.isLoading ? t("common.loading") : t("admin.agents.none")}
      />
    </Stack>
  );
}
