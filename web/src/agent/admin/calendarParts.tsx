/** What the holiday list and calendar tables share: the name first, the kind's own columns,
 * then who uses each (a delete of one in use is the API's 409, which names them). */
import { Text } from "@mantine/core";
import type { TFunction } from "i18next";
import { useTranslation } from "react-i18next";
import type { Column } from "./common";

interface SharedItem {
  name: string;
  used_by: string[];
}

export function sharedColumns<T extends SharedItem>(t: TFunction, own: Column<T>[]): Column<T>[] {
  return [
    { heading: t("admin.calendars.name"), cell: (row) => row.name },
    ...own,
    { heading: t("admin.calendars.usedBy"), cell: (row) => <UsedBy users={row.used_by} /> },
  ];
}

function UsedBy({ users }: { users: string[] }) {
  const { t } = useTranslation();
  if (users.length === 0)
    return (
      <Text size="sm" c="dimmed">
        {t("admin.calendars.unused")}
      </Text>
    );
  return <Text size="sm">{users.join(", ")}</Text>;
}
