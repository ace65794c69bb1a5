import { Badge, Group, Text, Tooltip } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { formatDateTime, formatRelative, useTimeZone } from "../shared/i18n/timezone";
import { WHOLE } from "./badges";
import { useNow } from "./useNow";

/** The SLA due time as a live countdown, with a breached mark. */
export function SlaDue({ due, breached }: { due: string | null; breached: boolean }) {
  const { t, i18n } = useTranslation();
  const zone = useTimeZone();
  const now = useNow();
  const language = i18n.resolvedLanguage ?? "en";
  const overdue = due !== null && new Date(due).getTime() < now;
  return (
    <Group gap={6} wrap="nowrap">
      {due ? (
        <Tooltip label={formatDateTime(due, language, zone)}>
          <Text size="sm" c={overdue ? "red.9" : undefined} fw={overdue ? 600 : undefined}>
            <time dateTime={due}>{formatRelative(due, language, now)}</time>
          </Text>
        </Tooltip>
      ) : (
        <Text size="sm" c="dimmed">
          {t("sla.none")}
        </Text>
      )}
      {breached && (
        <Badge color="red.9" variant="filled" size="sm" style={WHOLE}>
          {t("sla.breached")}
        </Badge>
      )}
    </Group>
  );
}
