/**
 * An assignment rule's per-agent capacity overrides (``agent_capacity``): agent -> the open
 * tickets they may hold before the rule skips them, instead of the rule's ``capacity`` (0: the
 * rule never gives them a ticket). The assignment rules API has had them; the form now too.
 */
import { Button, Group, NumberInput, Select, Stack, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { useAgents } from "../data";
import { RemoveButton } from "./common";

type Capacities = Record<string, number>;

export function AgentCapacity({
  value,
  onChange,
}: {
  value: Capacities;
  onChange: (value: Capacities) => void;
}) {
  const { t } = useTranslation();
  const agents = useAgents();
  const rows = Object.entries(value);
  const choices = (agents.data ?? []).map((agent) => ({ value: agent.id, label: agent.name }));
  const unused = choices.filter((choice) => !(choice.value in value));
  const replace = (index: number, agent: string, capacity: number) =>
    onChange(Object.fromEntries(rows.map((row, i) => (i === index ? [agent, capacity] : row))));
  return (
    <Stack gap={6} role="group" aria-label={t("admin.rules.agentCapacity")}>
      <Text size="sm" fw={500}>
        {t("admin.rules.agentCapacity")}
      </Text>
      <Text size="xs" c="dimmed">
        {t("admin.rules.agentCapacityHint")}
      </Text>
      {rows.map(([agent, capacity], index) => (
        <Group key={agent} gap="xs" align="end" data-testid="agent-capacity-row">
          <Select
            label={t("admin.rules.capacityAgent", { n: index + 1 })}
            data={[...choices.filter((c) => c.value === agent), ...unused]}
            value={agent}
            onChange={(chosen) => chosen && replace(index, chosen, capacity)}
            allowDeselect={false}
            searchable
            w={260}
          />
          <NumberInput
            label={t("admin.rules.capacityOf", { n: index + 1 })}
            min={0}
            value={capacity}
            onChange={(v) => replace(index, agent, typeof v === "number" && v >= 0 ? v : 0)}
            w={160}
          />
          <RemoveButton
            what={t("admin.rules.capacityAgent", { n: index + 1 })}
            onRemove={() => onChange(Object.fromEntries(rows.filter((_, i) => i !== index)))}
          />
        </Group>
      ))}
      <Group>
        <Button
          variant="default"
          size="xs"
          disabled={unused.length === 0}
          onClick={() => {
            const first = unused[0];
            if (first) onChange({ ...value, [first.value]: 1 });
          }}
        >
          {t("admin.rules.addAgentCapacity")}
        </Button>
      </Group>
    </Stack>
  );
}
