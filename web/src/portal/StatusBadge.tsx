import { Badge } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { NAMESPACE } from "./texts";

/** Colours with white text above 4.5:1 (shade 8/9), by what the status means. */
const COLORS: Record<string, string> = {
  new: "blue.8",
  active: "indigo.8",
  paused: "orange.9",
  resolved: "green.9",
  closed: "gray.8",
};

export function StatusBadge({ status, category }: { status: string; category: string }) {
  const { t } = useTranslation(NAMESPACE);
  return (
    <Badge color={COLORS[category] ?? "gray.8"} variant="filled" style={{ flexShrink: 0 }}>
      {t(`status.${status}`, { defaultValue: status })}
    </Badge>
  );
}
