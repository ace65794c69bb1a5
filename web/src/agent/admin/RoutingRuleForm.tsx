/**
 * A team routing rule's form: its id, name, order and on/off, the condition (the builder and
 * the expression the SLA and assignment forms use), and where matching tickets go - one team, or
 * a team that speaks the customer's language. The assignment service checks the draft as the
 * manager types (POST /routing/rules/{id}/check; its 422 message is shown) and a save names the
 * routing version it was decided on (If-Match).
 */
import { Checkbox, MultiSelect, Select } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../shared/api/client";
import { useTeams } from "../data";
import { adminApi, type AdminSchemas } from "./adminApi";
import { ConditionField } from "./ConditionField";
import { RuleEditorForm, useRuleDraft } from "./editing";
import type { Editing } from "./ItemsEditor";
import { type VersionedResource } from "./versioned";

export type RoutingRule = AdminSchemas["RoutingRule"];
export const UNASSIGNABLE = ["unassignable"];
export const ROUTING_READ = ["routing"];
/** The routing document (rules and channels' teams); a change to it alters who is unassignable. */
export const ROUTING: VersionedResource = {
  name: "routing",
  reads: [ROUTING_READ],
  alsoRefresh: [UNASSIGNABLE],
};

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

export function RoutingRuleForm({ draft: initial, isNew, onDone }: Editing<RoutingRule>) {
  const { t } = useTranslation();
  const teams = useTeams();
  const { rule, set, form } = useRuleDraft({
    initial,
    isNew,
    onDone,
    texts: "admin.routing",
    checkKey: "routing-check",
    resource: ROUTING,
    check: async (ruleId, draft: RoutingRule) =>
      unwrap(
        await adminApi.POST("/routing/rules/{rule_id}/check", {
          params: { path: { rule_id: ruleId } },
          body: draft,
        }),
      ),
    save: async (ruleId, saved, ifMatch) =>
      unwrap(
        await adminApi.PUT("/routing/rules/{rule_id}", {
          params: { path: { rule_id: ruleId }, header: { "If-Match": ifMatch } },
          body: saved,
        }),
      ),
  });
  const teamChoices = (teams.data ?? []).map((team) => ({ value: team.id, label: team.name }));
  return (
    <RuleEditorForm {...form}>
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
    </RuleEditorForm>
  );
}
