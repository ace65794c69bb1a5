/** Small pieces the admin screens share: a save-result line, a row's remove button, a mutation
 * that refreshes, a list's table and a DELETE's outcome. */
import { ActionIcon, Alert, Table, Text } from "@mantine/core";
import { useMutation, useQueryClient, type QueryKey } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../shared/api/client";

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

/** A striped table of rows under their column headings, or ``empty`` when there are none. */
export function ListTable({
  headings,
  empty,
  count,
  children,
  minWidth = 720,
}: {
  headings: string[];
  empty: string;
  count: number;
  children: ReactNode;
  minWidth?: number;
}) {
  if (count === 0) return <Text size="sm">{empty}</Text>;
  return (
    <Table.ScrollContainer minWidth={minWidth}>
      <Table striped>
        <Table.Thead>
          <Table.Tr>
            {headings.map((heading) => (
              <Table.Th key={heading}>{heading}</Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>{children}</Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** Nothing when a call without an answer body (a DELETE's 204) succeeded; else its ApiError. */
export function noContent(result: { error?: unknown; response: Response }): void {
  if (!result.response.ok)
    unwrap({ data: undefined, error: result.error, response: result.response });
}
