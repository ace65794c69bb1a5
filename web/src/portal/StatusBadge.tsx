import { Badge } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { NAMESPACE } from "./texts";

/** Colours with white text at 5:1 or more (WCAG AA for the badge's small bold text), by what the
 * status means; Mantine's green.9 and orange.9 stay under 4.5:1 with white. */
const COLORS: Record<string, string> = {
  new: "#1864ab",
  active: "#364fc7",
  paused: "#a13c08",
  resolved: "#1e6b30",
  closed: "#343a40",
};

export function StatusBadge({ status, category }: { status: string; category: string }) {
  const { t } = useTranslation(NAMESPACE);
  return (
    <Badge color={COLORS[category] ?? COLORS.closed} variant="filled" style={{ flexShrink: 0 }}>
      {t(`status.${status}`, { defaultValue: status })}
    </Badge>
  );
}
