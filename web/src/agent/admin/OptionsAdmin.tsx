/** Ticket options (managers): priorities (ordered, lowest first), statuses with the category
 * that says what they mean to SLAs and views, types, categories, business units and their
 * brands. The whole document is saved at once, as the API takes it. */
import {
  Button,
  Group,
  Paper,
  Select,
  Stack,
  TagsInput,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, unwrap, type Schemas, type TicketOptions } from "../../shared/api/client";
import { RemoveButton, SaveResult, useSaving } from "./common";

type Category = Schemas["StatusCategory"];
const CATEGORIES: Category[] = ["new", "active", "paused", "resolved", "closed"];

/** The options with their ETag: a save names the version it edits (If-Match; else 428). */
function useOptionsWithVersion() {
  return useQuery({
    queryKey: ["ticket-options", "etag"],
    queryFn: async () => {
      const result = await api.GET("/ticket-options");
      return { options: unwrap(result), etag: result.response.headers.get("ETag") ?? "" };
    },
  });
}

function OptionsForm({ options, etag }: { options: TicketOptions; etag: string }) {
  const { t } = useTranslation();
  const [draft, setDraft] = useState<TicketOptions>(options);
  const save = useSaving(
    async (body: TicketOptions) =>
      unwrap(await api.PUT("/ticket-options", { body, params: { header: { "if-match": etag } } })),
    [["ticket-options"]],
  );
  const statuses = draft.statuses;
  const units = draft.business_units ?? [];
  const setStatus = (index: number, change: Partial<(typeof statuses)[number]>) =>
    setDraft({
      ...draft,
      statuses: statuses.map((s, i) => (i === index ? { ...s, ...change } : s)),
    });
  const setUnit = (index: number, change: Partial<(typeof units)[number]>) =>
    setDraft({
      ...draft,
      business_units: units.map((u, i) => (i === index ? { ...u, ...change } : u)),
    });
  return (
    <Stack>
      <Text size="sm">{t("admin.options.hint")}</Text>
      <TagsInput
        label={t("admin.options.priorities")}
        value={draft.priorities}
        onChange={(priorities) => setDraft({ ...draft, priorities })}
      />
      <Paper withBorder p="md">
        <Title order={3} size="h5" mb="xs">
          {t("admin.options.statuses")}
        </Title>
        <Stack gap="xs">
          {statuses.map((status, index) => (
            <Group key={index} align="end" data-testid="status-option">
              <TextInput
                label={`${t("admin.options.statusName")} ${index + 1}`}
                value={status.name}
                onChange={(e) => setStatus(index, { name: e.currentTarget.value })}
              />
              <Select
                label={`${t("admin.options.category")} ${index + 1}`}
                data={CATEGORIES.map((c) => ({ value: c, label: t(`admin.category.${c}`) }))}
                value={status.category}
                allowDeselect={false}
                onChange={(value) => value && setStatus(index, { category: value })}
              />
              <RemoveButton
                what={status.name || t("admin.options.statusNumber", { n: index + 1 })}
                onRemove={() =>
                  setDraft({ ...draft, statuses: statuses.filter((_, i) => i !== index) })
                }
              />
            </Group>
          ))}
          <Button
            variant="default"
            w="fit-content"
            onClick={() =>
              setDraft({ ...draft, statuses: [...statuses, { name: "", category: "active" }] })
            }
          >
            {t("admin.options.addStatus")}
          </Button>
        </Stack>
      </Paper>
      <TagsInput
        label={t("admin.options.types")}
        value={draft.types ?? []}
        onChange={(types) => setDraft({ ...draft, types })}
      />
      <TagsInput
        label={t("admin.options.categories")}
        value={draft.categories ?? []}
        onChange={(categories) => setDraft({ ...draft, categories })}
      />
      <Paper withBorder p="md">
        <Title order={3} size="h5" mb="xs">
          {t("admin.options.businessUnits")}
        </Title>
        <Stack gap="xs">
          {units.map((unit, index) => (
            <Group key={index} align="end">
              <TextInput
                label={`${t("admin.options.unitName")} ${index + 1}`}
                value={unit.name}
                onChange={(e) => setUnit(index, { name: e.currentTarget.value })}
              />
              <TagsInput
                label={`${t("admin.options.brands")} ${index + 1}`}
                value={unit.brands ?? []}
                onChange={(brands) => setUnit(index, { brands })}
                w={320}
              />
              <RemoveButton
                what={unit.name || t("admin.options.unitNumber", { n: index + 1 })}
                onRemove={() =>
                  setDraft({ ...draft, business_units: units.filter((_, i) => i !== index) })
                }
              />
            </Group>
          ))}
          <Button
            variant="default"
            w="fit-content"
            onClick={() =>
              setDraft({ ...draft, business_units: [...units, { name: "", brands: [] }] })
            }
          >
            {t("admin.options.addUnit")}
          </Button>
        </Stack>
      </Paper>
      <Group>
        <Button onClick={() => save.mutate(draft)} loading={save.isPending}>
          {t("admin.save")}
        </Button>
        <SaveResult error={save.error} done={save.isSuccess} />
      </Group>
    </Stack>
  );
}

export default function OptionsAdmin() {
  const current = useOptionsWithVersion();
  if (!current.data) return null;
  return (
    <OptionsForm key={current.data.etag} options={current.data.options} etag={current.data.etag} />
  );
}
