/** What the holiday list and calendar sections share: who uses an item, and a delete's outcome
 * (a 409 says the item is still in use and by what - the API's message names them). */
import { Alert, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../shared/api/client";
import { SaveResult } from "./common";

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
  if (error instanceof ApiError && error.status === 409) {
    return (
      <Alert color="red" role="alert" variant="light" title={t("admin.calendars.inUse")}>
        {error.message}
      </Alert>
    );
  }
  return <SaveResult error={error} done={done} />;
}
