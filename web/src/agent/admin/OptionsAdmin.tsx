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
import { useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { api, unwrap, type Schemas, type TicketOptions } from "../../shared/api/client";
import { RemoveButton, SaveResult } from "./common";
import { useVersionedChange, useVersionedRead, type VersionedResource } from "./versioned";

type Category = Schemas["StatusCategory"];
const CATEGORIES: Category[] = ["new", "active", "paused", "resolved", "closed"];

const OPTIONS: VersionedResource = { name: "ticket-options", reads: [["ticket-options"]] };

/** A section of rows the manager edits in place: each row's fields and "×", then "Add". */
function EditableRows<R>({
  title,
  rows,
  onChange,
  blank,
  addLabel,
  what,
  testId,
  fields,
}: {
  title: string;
  rows: R[];
  onChange: (rows: R[]) => void;
  blank: R;
  addLabel: string;
  /** What a row's "×" names for screen readers. */
  what: (row: R, index: number) => string;
  testId?: string;
  fields: (row: R, index: number, set: (change: Partial<R>) => void) => ReactNode;
}) {
  const set = (index: number) => (change: Partial<R>) =>
    onChange(rows.map((r, i) => (i === index ? { ...r, ...change } : r)));
  return (
    <Paper withBorder p="md">
      <Title order={3} size="h5" mb="xs">
        {title}
      </Title>
      <Stack gap="xs">
        {rows.map((row, index) => (
          <Group key={index} align="end" data-testid={testId}>
            {fields(row, index, set(index))}
            <RemoveButton
              what={what(row, index)}
              onRemove={() => onChange(rows.filter((_, i) => i !== index))}
            />
          </Group>
        ))}
        <Button variant="default" w="fit-content" onClick={() => onChange([...rows, blank])}>
          {addLabel}
        </Button>
      </Stack>
    </Paper>
  );
}

function OptionsForm({ options }: { options: TicketOptions }) {
  const { t } = useTranslation();
  const [draft, setDraft] = useState<TicketOptions>(options);
  const save = useVersionedChange(OPTIONS, async (body: TicketOptions, ifMatch: string) =>
    unwrap(await api.PUT("/ticket-options", { body, params: { header: { "if-match": ifMatch } } })),
  );
  return (
    <Stack>
      <Text size="sm">{t("admin.options.hint")}</Text>
      <TagsInput
        label={t("admin.options.priorities")}
        value={draft.priorities}
        onChange={(priorities) => setDraft({ ...draft, priorities })}
      />
      <EditableRows<TicketOptions["statuses"][number]>
        title={t("admin.options.statuses")}
        rows={draft.statuses}
        onChange={(statuses) => setDraft({ ...draft, statuses })}
        blank={{ name: "", category: "active" }}
        addLabel={t("admin.options.addStatus")}
        what={(status, index) => status.name || t("admin.options.statusNumber", { n: index + 1 })}
        testId="status-option"
        fields={(status, index, set) => (
          <>
            <TextInput
              label={`${t("admin.options.statusName")} ${index + 1}`}
              value={status.name}
              onChange={(e) => set({ name: e.currentTarget.value })}
            />
            <Select
              label={`${t("admin.options.category")} ${index + 1}`}
              data={CATEGORIES.map((c) => ({ value: c, label: t(`admin.category.${c}`) }))}
              value={status.category}
              allowDeselect={false}
              onChange={(value) => value && set({ category: value })}
            />
          </>
        )}
      />
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
      <EditableRows
        title={t("admin.options.businessUnits")}
        rows={draft.business_units ?? []}
        onChange={(business_units) => setDraft({ ...draft, business_units })}
        blank={{ name: "", brands: [] }}
        addLabel={t("admin.options.addUnit")}
        what={(unit, index) => unit.name || t("admin.options.unitNumber", { n: index + 1 })}
        fields={(unit, index, set) => (
          <>
            <TextInput
              label={`${t("admin.options.unitName")} ${index + 1}`}
              value={unit.name}
              onChange={(e) => set({ name: e.currentTarget.value })}
            />
            <TagsInput
              label={`${t("admin.options.brands")} ${index + 1}`}
              value={unit.brands ?? []}
              onChange={(brands) => set({ brands })}
              w={320}
            />
          </>
        )}
      />
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
  const current = useVersionedRead(["ticket-options", "etag"], () => api.GET("/ticket-options"));
  if (!current.data) return null;
  return <OptionsForm key={current.data.etag} options={current.data.value} />;
}
