import { Badge } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { PAUSED_COLOR } from "../shared/theme";

// Darker shades (8-9) keep badge text above the 4.5:1 contrast ratio.
const CATEGORY_COLORS: Record<string, string> = {
  new: "blue.8",
  active: "teal.9",
  paused: PAUSED_COLOR,
  resolved: "#1e6b30", // Mantine's green.9 is under 4.5:1 with white text
  closed: "gray.8",
};

const PRIORITY_COLORS: Record<string, string> = {
  Urgent: "red.9",
  High: "orange.9",
  Medium: "blue.8",
  Low: "gray.8",
};

/** Badges show their whole text (Mantine's would shrink to "NE…" in a narrow table cell). */
export const WHOLE = { minWidth: "max-content" } as const;

/** A status category's badge color. */
export function statusColor(category: string): string {
  return CATEGORY_COLORS[category] ?? "gray.8";
}

/** A priority's badge color. */
export function priorityColor(priority: string): string {
  return PRIORITY_COLORS[priority] ?? "gray.8";
}

export function StatusBadge({ status, category }: { status: string; category: string }) {
  const { t } = useTranslation();
  return (
    <Badge color={statusColor(category)} variant="filled" style={WHOLE}>
      {t(`status.${status}`, { defaultValue: status })}
    </Badge>
  );
}

export function PriorityBadge({ priority }: { priority: string }) {
  const { t } = useTranslation();
  return (
    <Badge color={priorityColor(priority)} variant="dot" style={WHOLE}>
      {t(`priority.${priority}`, { defaultValue: priority })}
    </Badge>
  );
}
