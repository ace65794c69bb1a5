/**
 * A team routing rule's form: its id, name, order and on/off, the condition (the builder and
 * the expression the SLA and assignment forms use), and where matching tickets go - one team, or
 * a team that speaks the customer's language. The assignment service checks the draft as the
 * manager types (POST /routing/rules/{id}/check; its 422 message is shown) and a save names the
 * routing version it was decided on (If-Match).
 */
import { Checkbox, MultiSelect, Paper, Select, Stack, Title } from "@mantine/core";
import { useState, type SyntheticEvent } from "react";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../shared/api/client";
import { useTeams } from "../data";
import { adminApi, type AdminSchemas } from "./adminApi";
import { useSaving } from "./common";
import { ConditionField, DraftProblem } from "./ConditionField";
import { FormButtons, RuleIdentity, useDraftCheck } from "./editing";

export type RoutingRule = AdminSchemas["RoutingRule"];
export const ROUTING = ["routing"];

export function newRoutingRule(): RoutingRule {
  return {
    rule_id: "",
    name: "",
    description: null,
    order: 10,
    enabled: true,
    condition: null,
    team_id: null,
    by_language: false,
    teams: [],
  };
}

export function RoutingRuleForm({
  initial,
  isNew,
  etag,
  onDone,
}: {
  initial: RoutingRule;
  isNew: boolean;
  etag: string;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const teams = useTeams();
  const [rule, setRule] = useState<RoutingRule>(initial);
  const set = (change: Partial<RoutingRule>) => setRule({ ...rule, ...change });
  const check = useDraftCheck("routing-check", rule, async (draft) => {
    const checkId = draft.rule_id || "draft";
    return unwrap(
      await adminApi.POST("/routing/rules/{rule_id}/check", {
        params: { path: { rule_id: checkId } },
        body: { ...draft, rule_id: checkId },
      }),
    );
  });
  const save = useSaving(
    async (saved: RoutingRule) =>
      unwrap(
        await adminApi.PUT("/routing/rules/{rule_id}", {
          params: { path: { rule_id: saved.rule_id ?? "" }, header: { "If-Match": etag } },
          body: saved,
        }),
      ),
    [ROUTING],
  );
  const problem = check.isError ? check.error.message : null;
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    save.mutate(rule, { onSuccess: onDone });
  };
  const teamChoices = (teams.data ?? []).map((team) => ({ value: team.id, label: team.name }));
  return (
    <Paper
      withBorder
      p="md"
      component="form"
      onSubmit={submit}
      aria-label={t("admin.routing.form")}
    >
      <Stack>
        <Title order={3} size="h4">
          {isNew ? t("admin.routing.create") : t("admin.routing.edit", { name: initial.name })}
        </Title>
        <RuleIdentity texts="admin.routing" rule={rule} isNew={isNew} onChange={set} />
        <ConditionField
          label={t("admin.routing.condition")}
          value={rule.condition ?? ""}
          onChange={(expression) => set({ condition: expression.trim() ? expression : null })}
        />
        <Checkbox
          label={t("admin.routing.byLanguage")}
          checked={rule.by_language}
          onChange={(e) =>
            e.currentTarget.checked
              ? set({ by_language: true, team_id: null })
              : set({ by_language: false, teams: [] })
          }
        />
        {rule.by_language ? (
          <MultiSelect
            label={t("admin.routing.languageTeams")}
            data={teamChoices}
            value={rule.teams}
            onChange={(chosen) => set({ teams: chosen })}
            searchable
          />
        ) : (
          <Select
            label={t("admin.routing.team")}
            required
            data={teamChoices}
            value={rule.team_id}
            onChange={(team) => set({ team_id: team })}
            searchable
          />
        )}
        <DraftProblem problem={problem} />
        <FormButtons
          saving={save.isPending}
          invalid={problem !== null}
          error={save.error}
          onCancel={onDone}
        />
      </Stack>
    </Paper>
  );
}
