/** Small pieces the admin screens share: a save-result line, a row's remove button, a mutation
 * that refreshes, a list's table, a form's card and a DELETE's outcome. */
import { ActionIcon, Alert, Paper, Table, Text, Title } from "@mantine/core";
import { useMutation, useQueryClient, type QueryKey } from "@tanstack/react-query";
import type { ReactNode, SyntheticEvent } from "react";
import { useTranslation } from "react-i18next";
import { ApiError, unwrap } from "../../shared/api/client";

/** A mutation that refetches the given queries when it succeeds. */
export function useSaving<V, R = unknown>(run: (vars: V) => Promise<R>, refresh: QueryKey[]) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: async () => {
      await Promise.all(refresh.map((key) => queryClient.invalidateQueries({ queryKey: key })));
    },
  });
}

/**
 * A mutation whose answer is the saved item (an agent, a team): it replaces (or adds) that item
 * in the cached list at once. The API's answer is the item as written, while a refetch of the
 * list could still come from a read model a few milliseconds behind.
 */
export function useSavingItem<V, T extends { id: string; version: number }>(
  run: (vars: V) => Promise<T | undefined>,
  list: QueryKey,
) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: (item) => {
      if (!item) return;
      queryClient.setQueryData<T[]>(list, (old) => {
        if (!old) return old;
        const found = old.some((o) => o.id === item.id);
        return found
          ? old.map((o) => (o.id === item.id && o.version <= item.version ? item : o))
          : [...old, item];
      });
    },
  });
}

/** The outcome of the last save: the API's error text, or "Saved." (announced politely). */
export function SaveResult({ error, done }: { error: Error | null; done: boolean }) {
  const { t } = useTranslation();
  if (error) {
    return (
      <Alert color="red" role="alert" variant="light">
        {error.message}
      </Alert>
    );
  }
  return (
    <Text size="sm" role="status" mih={20}>
      {done ? t("admin.saved") : ""}
    </Text>
  );
}

/** The "×" that removes a row of a list being edited; ``what`` names the row for screen readers. */
export function RemoveButton({ what, onRemove }: { what: string; onRemove: () => void }) {
  const { t } = useTranslation();
  return (
    <ActionIcon
      variant="default"
      size="lg"
      aria-label={`${t("admin.remove")} ${what}`}
      onClick={onRemove}
    >
      ×
    </ActionIcon>
  );
}

/** A column of an ``ItemsTable``: its heading and each row's cell. */
export interface Column<T> {
  heading: ReactNode;
  cell: (row: T) => ReactNode;
}

/** A striped table of rows (one ``testId`` each) under their columns' headings, or ``empty`` when
 * there are none; ``actions`` (a row's Edit / Delete buttons, say) adds the column "Actions". */
export function ItemsTable<T>({
  rows,
  rowKey,
  testId,
  columns,
  empty,
  actions,
  minWidth = 720,
}: {
  rows: T[];
  rowKey: (row: T) => string;
  testId: string;
  columns: Column<T>[];
  empty: string;
  actions?: (row: T) => ReactNode;
  minWidth?: number;
}) {
  const { t } = useTranslation();
  if (rows.length === 0) return <Text size="sm">{empty}</Text>;
  const all = actions ? [...columns, { heading: t("admin.sla.actions"), cell: actions }] : columns;
  return (
    <Table.ScrollContainer minWidth={minWidth}>
      <Table striped>
        <Table.Thead>
          <Table.Tr>
            {all.map((column, index) => (
              <Table.Th key={index}>{column.heading}</Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row) => (
            <Table.Tr key={rowKey(row)} data-testid={testId}>
              {all.map((column, index) => (
                <Table.Td key={index}>{column.cell(row)}</Table.Td>
              ))}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** A form in a card: its title (if any), its fields and buttons, the outcome of its save. */
export function FormCard({
  title,
  onSubmit,
  children,
}: {
  title?: string;
  onSubmit: () => void;
  children: ReactNode;
}) {
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    onSubmit();
  };
  return (
    <Paper withBorder p="md" component="form" onSubmit={submit}>
      {title && (
        <Title order={3} size="h4" mb="sm">
          {title}
        </Title>
      )}
      {children}
    </Paper>
  );
}

/** A delete's outcome: a 409 that names what still uses the item says so ("Still in use");
 * any other 409 means the configuration moved on meanwhile, and is shown as such. */
export function DeleteResult({ error, done }: { error: Error | null; done: boolean }) {
  const { t } = useTranslation();
  const inUse =
    error instanceof ApiError &&
    error.status === 409 &&
    typeof error.body === "object" &&
    error.body !== null &&
    "used_by" in error.body;
  if (inUse) {
    return (
      <Alert color="red" role="alert" variant="light" title={t("admin.calendars.inUse")}>
        {error.message}
      </Alert>
    );
  }
  return <SaveResult error={error} done={done} />;
}

/** Nothing when a call without an answer body (a DELETE's 204) succeeded; else its ApiError. */
export function noContent(result: { error?: unknown; response: Response }): void {
  if (!result.response.ok)
    unwrap({ data: undefined, error: result.error, response: result.response });
}
