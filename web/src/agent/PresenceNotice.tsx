/**
 * The collision warning: the other agents who have this ticket open, and who of them is writing
 * a reply. A polite live region, so a screen reader hears who arrives, starts replying or leaves.
 */
import { List, Paper, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { LIVE_NS } from "./i18n/register";
import type { OtherAgent } from "./ticketLive";

export function PresenceNotice({ others }: { others: OtherAgent[] }) {
  const { t } = useTranslation(LIVE_NS);
  const replying = others.some((other) => other.activity === "replying");
  const accent = replying ? "orange" : "blue";
  return (
    <div role="status" aria-live="polite" aria-label={t("presence.label")}>
      {others.length > 0 && (
        <Paper
          withBorder
          p="xs"
          mt="xs"
          radius="md"
          bg={`${accent}.0`}
          style={{ borderLeft: `4px solid var(--mantine-color-${accent}-9)` }}
          data-testid="presence"
        >
          <List size="sm" spacing={2}>
            {others.map((other) => (
              <List.Item key={other.agent_id} data-activity={other.activity}>
                {t(other.activity === "replying" ? "presence.replying" : "presence.viewing", {
                  name: other.name ?? t("presence.someone"),
                })}
              </List.Item>
            ))}
          </List>
          {replying && (
            <Text size="sm" fw={600} mt={4}>
              {t("presence.collision")}
            </Text>
          )}
        </Paper>
      )}
    </div>
  );
}
