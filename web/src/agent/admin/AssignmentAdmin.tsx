/**
 * Assignment rules (managers), through the gateway's /api/rules: the rules in the order they
 * are tried, each team's default rule (round robin over its members) among them, and a form for
 * a rule - its condition, when it unassigns and when it closes an assignment, days and hours,
 * method, the agents or teams it assigns to, capacity (per agent too) and escalation on an SLA
 * breach. The assignment service checks the draft as the manager types
 * (its 422 message is shown, and its warnings).
 */
import {
  Badge,
  Checkbox,
  Code,
  Group,
  MultiSelect,
  NumberInput,
  Select,
  Stack,
  Text,
  TextInput,
} from "@mantine/core";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../shared/api/client";
import { useAgents, useTeams } from "../data";
import { adminApi, type AdminSchemas } from "./adminApi";
import { AgentCapacity } from "./AgentCapacity";
import { WEEKDAYS } from "./CalendarFields";
import { noContent } from "./common";
import { ConditionField, ExpressionField } from "./ConditionField";
import { RuleEditorForm, useRuleDraft } from "./editing";
import { ItemsEditor, type Editing } from "./ItemsEditor";
import { useVersionedChange, useVersionedRead, type VersionedResource } from "./versioned";

type Rule = AdminSchemas["AssignmentRule"];
type RuleView = Rule & { saved: boolean; warnings: string[] };
interface RuleList {
  version: number;
  rules: RuleView[];
}
const METHODS: Rule["method"][] = ["round_robin", "load_balancing", "based_on_field"];
const RULES_READ = ["assignment-rules"];
const RULES: VersionedResource = { name: "assignment-rules", reads: [RULES_READ] };

function useRules() {
  return useVersionedRead(
    RULES_READ,
    () => adminApi.GET("/rules"),
    // The worker documents no schema for its answers: the shape is GET /rules's.
    (answer: unknown) => (answer as RuleList).rules,
  );
}

function newRule(): Rule {
  return {
    rule_id: "",
    name: "",
    description: null,
    order: 10,
    enabled: true,
    assign_condition: null,
    unassign_condition: null,
    close_condition: null,
    schedule: {
      time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
      days: WEEKDAYS.slice(0, 5),
      start: "08:00",
      end: "17:00",
    },
    method: "load_balancing",
    agents: [],
    teams: [],
    assignee_field: null,
    capacity: null,
    agent_capacity: {},
    escalate_on_breach: false,
  };
}

function editable(view: RuleView): Rule {
  const rule: Omit<RuleView, "saved" | "warnings"> & { saved?: boolean; warnings?: string[] } = {
    ...view,
  };
  delete rule.saved;
  delete rule.warnings;
  return rule;
}

function RuleForm({ draft: initial, isNew, onDone }: Editing<Rule>) {
  const { t } = useTranslation();
  const teams = useTeams();
  const agents = useAgents();
  const { rule, set, checked, form } = useRuleDraft({
    initial,
    isNew,
    onDone,
    texts: "admin.rules",
    checkKey: "rule-check",
    resource: RULES,
    check: async (ruleId, draft: Rule) =>
      unwrap<unknown>(
        await adminApi.POST("/rules/{rule_id}/check", {
          params: { path: { rule_id: ruleId } },
          body: draft,
        }),
      ) as { warnings: string[] },
    save: async (ruleId, saved, ifMatch) =>
      unwrap<unknown>(
        await adminApi.PUT("/rules/{rule_id}", {
          params: { path: { rule_id: ruleId }, header: { "If-Match": ifMatch } },
          body: saved,
        }),
      ),
  });
  const schedule = rule.schedule ?? newRule().schedule;
  const setSchedule = (change: Partial<NonNullable<Rule["schedule"]>>) =>
    schedule && set({ schedule: { ...schedule, ...change } });
  const teamChoices = (teams.data ?? []).map((team) => ({ value: team.id, label: team.name }));
  const agentChoices = (agents.data ?? []).map((a) => ({ value: a.id, label: a.name }));
  return (
    <RuleEditorForm {...form}>
      <ConditionField
        label={t("admin.rules.condition")}
        value={rule.assign_condition ?? ""}
        onChange={(expression) => set({ assign_condition: expression.trim() ? expression : null })}
      />
      <ExpressionField
        label={t("admin.rules.unassignCondition")}
        description={t("admin.rules.unassignHint")}
        value={rule.unassign_condition ?? ""}
        onChange={(expression) =>
          set({ unassign_condition: expression.trim() ? expression : null })
        }
      />
      <ExpressionField
        label={t("admin.rules.closeCondition")}
        description={t("admin.rules.closeHint")}
        value={rule.close_condition ?? ""}
        onChange={(expression) => set({ close_condition: expression.trim() ? expression : null })}
      />
      {schedule && (
        <Group align="end">
          <MultiSelect
            label={t("admin.rules.days")}
            data={WEEKDAYS.map((day) => ({ value: day, label: t(`admin.weekdays.${day}`) }))}
            value={schedule.days}
            onChange={(days) => setSchedule({ days: days })}
            searchable
            miw={320}
          />
          <TextInput
            type="time"
            label={t("admin.rules.from")}
            value={schedule.start}
            onChange={(e) => setSchedule({ start: e.currentTarget.value })}
          />
          <TextInput
            type="time"
            label={t("admin.rules.until")}
            description={t("admin.rules.untilHint")}
            value={schedule.end === "24:00" ? "00:00" : schedule.end}
            onChange={(e) => setSchedule({ end: e.currentTarget.value })}
          />
          <TextInput
            label={t("admin.calendar.timeZone")}
            value={schedule.time_zone}
            onChange={(e) => setSchedule({ time_zone: e.currentTarget.value })}
          />
        </Group>
      )}
      <Group align="end" grow>
        <Select
          label={t("admin.rules.method")}
          data={METHODS.map((m) => ({ value: m, label: t(`admin.rules.methods.${m}`) }))}
          value={rule.method}
          allowDeselect={false}
          onChange={(m) =>
            m &&
            set({
              method: m,
              assignee_field: m === "based_on_field" ? (rule.assignee_field ?? "") : null,
            })
          }
        />
        {rule.method === "based_on_field" && (
          <TextInput
            label={t("admin.rules.assigneeField")}
            description={t("admin.rules.assigneeFieldHint")}
            value={rule.assignee_field ?? ""}
            onChange={(e) => set({ assignee_field: e.currentTarget.value || null })}
          />
        )}
        <NumberInput
          label={t("admin.rules.capacity")}
          description={t("admin.rules.capacityHint")}
          min={1}
          value={rule.capacity ?? ""}
          onChange={(v) => set({ capacity: typeof v === "number" && v > 0 ? v : null })}
        />
      </Group>
      <AgentCapacity
        value={rule.agent_capacity ?? {}}
        onChange={(agent_capacity) => set({ agent_capacity })}
      />
      <Group align="end" grow>
        <MultiSelect
          label={t("admin.rules.teams")}
          data={teamChoices}
          value={rule.teams}
          onChange={(chosen) => set({ teams: chosen })}
          searchable
        />
        <MultiSelect
          label={t("admin.rules.agents")}
          data={agentChoices}
          value={rule.agents}
          onChange={(chosen) => set({ agents: chosen })}
          searchable
        />
      </Group>
      <Checkbox
        label={t("admin.rules.escalate")}
        checked={rule.escalate_on_breach}
        onChange={(e) => set({ escalate_on_breach: e.currentTarget.checked })}
      />
      {!form.problem &&
        (checked.data?.warnings ?? []).map((w) => (
          <Text size="sm" c="orange.9" key={w}>
            {w}
          </Text>
        ))}
    </RuleEditorForm>
  );
}

export default function AssignmentAdmin() {
  const { t } = useTranslation();
  const rules = useRules();
  const teams = useTeams();
  const agents = useAgents();
  const remove = useVersionedChange(RULES, async (ruleId: string, ifMatch: string) =>
    noContent(
      await adminApi.DELETE("/rules/{rule_id}", {
        params: { path: { rule_id: ruleId }, header: { "If-Match": ifMatch } },
      }),
    ),
  );
  const names = new Map([
    ...(teams.data ?? []).map((team) => [team.id, team.name] as const),
    ...(agents.data ?? []).map((agent) => [agent.id, agent.name] as const),
  ]);
  return (
    <Stack>
      <Text size="sm">{t("admin.rules.hint")}</Text>
      <ItemsEditor
        rows={rules.data?.value ?? []}
        rowKey={(r) => r.rule_id ?? ""}
        testId="rule-row"
        columns={[
          { heading: t("admin.rules.order"), cell: (r) => r.order },
          {
            heading: t("admin.rules.name"),
            cell: (r) => (
              <>
                {r.name} {!r.saved && <Badge variant="light">{t("admin.rules.teamDefault")}</Badge>}
                {!r.enabled && <Badge variant="outline">{t("admin.rules.off")}</Badge>}
                {r.warnings.map((w) => (
                  <Text size="xs" c="orange.9" key={w}>
                    {w}
                  </Text>
                ))}
              </>
            ),
          },
          {
            heading: t("admin.rules.condition"),
            cell: (r) =>
              r.assign_condition ? <Code>{r.assign_condition}</Code> : t("admin.sla.everyTicket"),
          },
          { heading: t("admin.rules.method"), cell: (r) => t(`admin.rules.methods.${r.method}`) },
          {
            heading: t("admin.rules.assignsTo"),
            cell: (r) => [...r.teams, ...r.agents].map((id) => names.get(id) ?? id).join(", "),
          },
        ]}
        empty={t("admin.rules.none")}
        name={(r) => r.name}
        edit={editable}
        deletable={(r) => r.saved}
        remove={remove}
        newLabel={t("admin.rules.create")}
        newDraft={newRule}
        form={(editing) => <RuleForm {...editing} />}
      />
    </Stack>
  );
}
