/** What the holiday list and calendar sections share: their table (name, the kind's own
 * columns, who uses each, Edit / Delete), and a delete's outcome (a 409 says the item is still in
 * use and by what - the API's message names them). */
import { Alert, Table, Text } from "@mantine/core";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../shared/api/client";
import { ListTable, SaveResult } from "./common";
import { RowActions } from "./editing";

interface SharedItem {
  name: string;
  used_by: string[];
}

export function SharedItems<T extends SharedItem>({
  rows,
  rowId,
  testId,
  headings,
  cells,
  empty,
  onEdit,
  onDelete,
}: {
  rows: T[];
  rowId: (row: T) => string;
  testId: string;
  /** The headings of the kind's own columns, and their cells. */
  headings: string[];
  cells: (row: T) => ReactNode[];
  empty: string;
  onEdit: (row: T) => void;
  onDelete: (id: string) => void;
}) {
  const { t } = useTranslation();
  return (
    <ListTable
      headings={[
        t("admin.calendars.name"),
        ...headings,
        t("admin.calendars.usedBy"),
        t("admin.sla.actions"),
      ]}
      empty={empty}
      count={rows.length}
    >
      {rows.map((row) => (
        <Table.Tr key={rowId(row)} data-testid={testId}>
          <Table.Td>{row.name}</Table.Td>
          {cells(row).map((cell, index) => (
            <Table.Td key={index}>{cell}</Table.Td>
          ))}
          <Table.Td>
            <UsedBy users={row.used_by} />
          </Table.Td>
          <Table.Td>
            <RowActions
              name={row.name}
              onEdit={() => onEdit(row)}
              onDelete={() => onDelete(rowId(row))}
            />
          </Table.Td>
        </Table.Tr>
      ))}
    </ListTable>
  );
}

export function UsedBy({ users }: { users: string[] }) {
  const { t } = useTranslation();
  if (users.length === 0)
    return (
      <Text size="sm" c="dimmed">
        {t("admin.calendars.unused")}
      </Text>
    );
  return <Text size="sm">{users.join(", ")}</Text>;
}

export function DeleteResult({ error, done }: { error: Error | null; done: boolean }) {
  const { t } = useTranslation();
  // A 409 is "in use" only when it names the users; else the configuration moved on meanwhile.
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
