/** What the SLA policy and assignment rule screens share: a form's Save / Cancel with the
 * outcome, and a listed item's Edit / Delete buttons. */
import { Button, Group } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { SaveResult } from "./common";

/** Save (disabled while the API says the draft is not valid) and Cancel, then the outcome. */
export function FormButtons({
  saving,
  invalid,
  error,
  onCancel,
}: {
  saving: boolean;
  invalid: boolean;
  error: Error | null;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  return (
    <>
      <Group>
        <Button type="submit" loading={saving} disabled={invalid}>
          {t("admin.save")}
        </Button>
        <Button variant="default" onClick={onCancel}>
          {t("admin.cancel")}
        </Button>
      </Group>
      <SaveResult error={error} done={false} />
    </>
  );
}

/** "Edit <name>" and "Delete <name>", each when the item may be. */
export function RowActions({
  name,
  onEdit,
  onDelete,
}: {
  name: string;
  onEdit?: () => void;
  onDelete?: () => void;
}) {
  const { t } = useTranslation();
  return (
    <Group gap="xs">
      {onEdit && (
        <Button size="xs" variant="default" onClick={onEdit}>
          {t("admin.sla.editName", { name })}
        </Button>
      )}
      {onDelete && (
        <Button size="xs" variant="subtle" color="red" onClick={onDelete}>
          {t("admin.sla.deleteName", { name })}
        </Button>
      )}
    </Group>
  );
}
