/** Agents (managers): invite by email with a role, change role and availability,
 * deactivate and reactivate. The gateway mails the invitation on the AgentInvited event. */
import {
  Button,
  Group,
  Paper,
  Select,
  Stack,
  Table,
  TextInput,
  Title,
  VisuallyHidden,
} from "@mantine/core";
import { useState, type SyntheticEvent } from "react";
import { useTranslation } from "react-i18next";
import { api, unwrap, type Agent, type Schemas } from "../../shared/api/client";
import { useAgents } from "../data";
import { SaveResult, useSavingItem } from "./common";

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
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    invite.mutate(
      { email, name, role },
      {
        onSuccess: () => {
          setEmail("");
          setName("");
        },
      },
    );
  };
  return (
    <Paper withBorder p="md" component="form" onSubmit={submit}>
      <Title order={3} size="h4" mb="sm">
        {t("admin.agents.invite")}
      </Title>
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
    </Paper>
  );
}

function AgentRow({ agent }: { agent: Agent }) {
  const { t } = useTranslation();
  const change = useSavingItem(
    async (body: Schemas["ChangeAgentBody"]) =>
      unwrap(
        await api.PATCH("/agents/{agent_id}", { params: { path: { agent_id: agent.id } }, body }),
      ),
    ["agents"],
  );
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
  const error = change.error ?? available.error;
  return (
    <Table.Tr data-testid="agent-row">
      <Table.Td>{agent.name}</Table.Td>
      <Table.Td>{agent.email}</Table.Td>
      <Table.Td>
        <Select
          aria-label={t("admin.agents.roleOf", { name: agent.name })}
          data={ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))}
          value={agent.role}
          allowDeselect={false}
          onChange={(value) => value && change.mutate({ role: value })}
          w={150}
        />
      </Table.Td>
      <Table.Td>
        <Select
          aria-label={t("admin.agents.availabilityOf", { name: agent.name })}
          data={AVAILABILITIES.map((a) => ({ value: a, label: t(`admin.availability.${a}`) }))}
          value={agent.availability}
          allowDeselect={false}
          onChange={(value) => value && available.mutate(value)}
          w={150}
        />
      </Table.Td>
      <Table.Td>{agent.active ? t("admin.agents.active") : t("admin.agents.inactive")}</Table.Td>
      <Table.Td>
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
        {error && <SaveResult error={error} done={false} />}
      </Table.Td>
    </Table.Tr>
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
      <Table.ScrollContainer minWidth={720}>
        <Table striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("admin.agents.name")}</Table.Th>
              <Table.Th>{t("admin.agents.email")}</Table.Th>
              <Table.Th>{t("admin.agents.role")}</Table.Th>
              <Table.Th>{t("admin.agents.availability")}</Table.Th>
              <Table.Th>{t("admin.agents.status")}</Table.Th>
              <Table.Th>
                <VisuallyHidden>{t("admin.agents.deactivate")}</VisuallyHidden>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(agents.data ?? []).map((agent) => (
              <AgentRow key={agent.id} agent={agent} />
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}
