/**
 * A list of items a manager edits one at a time (SLA policies, assignment and routing rules,
 * calendars, holiday lists): the table with each row's "Edit <name>" / "Delete <name>", the
 * outcome of the last delete, and below it the form of the item being edited - or, while none
 * is, the button that starts a new one. The screen says what a row shows, which rows may be
 * deleted, and what form edits an item; the editing state lives here.
 */
import { Button, Group } from "@mantine/core";
import { Fragment, useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { DeleteResult, ItemsTable, type Column } from "./common";

/** "Edit <name>" and "Delete <name>", each when the item may be. */
function RowActions({
  name,
  onEdit,
  onDelete,
}: {
  name: string;
  onEdit: () => void;
  onDelete?: () => void;
}) {
  const { t } = useTranslation();
  return (
    <Group gap="xs">
      <Button size="xs" variant="default" onClick={onEdit}>
        {t("admin.sla.editName", { name })}
      </Button>
      {onDelete && (
        <Button size="xs" variant="subtle" color="red" onClick={onDelete}>
          {t("admin.sla.deleteName", { name })}
        </Button>
      )}
    </Group>
  );
}

/** What deletes a row: its ``mutate`` takes the row's id; its outcome is shown under the table. */
interface Removal {
  mutate: (id: string) => void;
  error: Error | null;
  isSuccess: boolean;
}

/** The form ``form`` draws for a draft: a new item's, or a listed one's. */
export interface Editing<D> {
  draft: D;
  isNew: boolean;
  onDone: () => void;
}

export function ItemsEditor<T, D>({
  rows,
  rowKey,
  testId,
  columns,
  empty,
  name,
  edit,
  deletable = () => true,
  remove,
  newLabel,
  newDraft,
  form,
}: {
  rows: T[];
  /** A row's id: its React key, and what its Delete removes. */
  rowKey: (row: T) => string;
  testId: string;
  columns: Column<T>[];
  empty: string;
  /** A row's name, on its Edit / Delete buttons. */
  name: (row: T) => string;
  /** The draft a row's Edit opens. */
  edit: (row: T) => D;
  deletable?: (row: T) => boolean;
  remove: Removal;
  newLabel: string;
  newDraft: () => D;
  form: (editing: Editing<D>) => ReactNode;
}) {
  const [editing, setEditing] = useState<{ draft: D; isNew: boolean; key: string } | null>(null);
  return (
    <>
      <ItemsTable
        rows={rows}
        rowKey={rowKey}
        testId={testId}
        columns={columns}
        empty={empty}
        actions={(row) => (
          <RowActions
            name={name(row)}
            onEdit={() => setEditing({ draft: edit(row), isNew: false, key: rowKey(row) })}
            onDelete={deletable(row) ? () => remove.mutate(rowKey(row)) : undefined}
          />
        )}
      />
      <DeleteResult error={remove.error} done={remove.isSuccess} />
      {editing ? (
        // A new key, a new form: each item's edit starts from that item.
        <Fragment key={editing.key}>
          {form({ draft: editing.draft, isNew: editing.isNew, onDone: () => setEditing(null) })}
        </Fragment>
      ) : (
        <Group>
          <Button onClick={() => setEditing({ draft: newDraft(), isNew: true, key: "new" })}>
            {newLabel}
          </Button>
        </Group>
      )}
    </>
  );
}
