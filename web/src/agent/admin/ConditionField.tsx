/**
 * A rule's condition: a builder for the common cases (priority, team, type, customer company)
 * that writes the expression, and the expression itself for the rest. The form that holds it
 * has the API check the whole draft as the manager types and shows its message (DraftProblem).
 */
import { Alert, Fieldset, MultiSelect, SimpleGrid, Text, Textarea } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, unwrap } from "../../shared/api/client";
import { useTeams, useTicketOptions } from "../data";
import { buildCondition, readCondition, type BuilderField, type BuilderValues } from "./conditions";

function useCompanyChoices(search: string, chosen: string[]) {
  const [debounced] = useDebouncedValue(search, 250);
  const companies = useQuery({
    queryKey: ["companies", debounced],
    queryFn: async () =>
      unwrap(
        await api.GET("/companies", {
          params: { query: { q: debounced || undefined, page_size: 50 } },
        }),
      ).items,
  });
  const found = (companies.data ?? []).map((c) => ({ value: c.id, label: c.name }));
  const missing = chosen
    .filter((id) => !found.some((c) => c.value === id))
    .map((id) => ({ value: id, label: id }));
  return [...found, ...missing];
}

export function ConditionField({
  label,
  value,
  onChange,
}: {
  label: string;
  value: string;
  onChange: (expression: string) => void;
}) {
  const { t } = useTranslation();
  const options = useTicketOptions();
  const teams = useTeams();
  const [companySearch, setCompanySearch] = useState("");
  const built = readCondition(value);
  const current: BuilderValues = built ?? {
    priority: [],
    team_id: [],
    type: [],
    company_id: [],
  };
  const companies = useCompanyChoices(companySearch, current.company_id);
  const choose = (field: BuilderField) => (chosen: string[]) =>
    onChange(buildCondition({ ...current, [field]: chosen }));
  return (
    <Fieldset legend={label}>
      <Text size="sm" mb="xs">
        {built ? t("admin.condition.builderHint") : t("admin.condition.custom")}
      </Text>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <MultiSelect
          label={t("admin.condition.priority")}
          data={options.data?.priorities ?? []}
          value={current.priority}
          onChange={choose("priority")}
          disabled={!built}
          searchable
          clearable
        />
        <MultiSelect
          label={t("admin.condition.team")}
          data={(teams.data ?? []).map((team) => ({ value: team.id, label: team.name }))}
          value={current.team_id}
          onChange={choose("team_id")}
          disabled={!built}
          searchable
          clearable
        />
        <MultiSelect
          label={t("admin.condition.type")}
          data={options.data?.types ?? []}
          value={current.type}
          onChange={choose("type")}
          disabled={!built}
          searchable
          clearable
        />
        <MultiSelect
          label={t("admin.condition.company")}
          placeholder={t("admin.branding.companySearch")}
          data={companies}
          value={current.company_id}
          onChange={choose("company_id")}
          searchable
          searchValue={companySearch}
          onSearchChange={setCompanySearch}
          filter={({ options: all }) => all}
          disabled={!built}
          clearable
        />
      </SimpleGrid>
      <ExpressionField
        label={t("admin.condition.expression")}
        description={t("admin.condition.expressionHint")}
        value={value}
        onChange={onChange}
      />
      {value.trim() === "" && (
        <Text size="sm" c="dimmed" mt={4}>
          {t("admin.condition.every")}
        </Text>
      )}
    </Fieldset>
  );
}

/** A condition written as its expression only (a rule's unassign and close conditions): the
 * form's draft check validates it with the rest. */
export function ExpressionField({
  label,
  description,
  value,
  onChange,
}: {
  label: string;
  description: string;
  value: string;
  onChange: (expression: string) => void;
}) {
  return (
    <Textarea
      mt="sm"
      label={label}
      description={description}
      autosize
      minRows={1}
      maxLength={4000}
      value={value}
      onChange={(e) => onChange(e.currentTarget.value)}
      styles={{ input: { fontFamily: "monospace" } }}
    />
  );
}

/** The API's verdict on a draft, shown by the form (a 422's message, or nothing). */
export function DraftProblem({ problem }: { problem: string | null }) {
  const { t } = useTranslation();
  if (!problem) return null;
  return (
    <Alert color="red" variant="light" role="alert" title={t("admin.draftInvalid")}>
      {problem}
    </Alert>
  );
}
