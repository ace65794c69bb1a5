import type { TFunction } from "i18next";
import { formatDateTime, formatRelative } from "../shared/i18n/timezone";
import { WHOLE } from "./badges";
import { HoverTooltip, PlainBadge, PlainGroup } from "./listCells";
import { useNow } from "./useNow";

const GAP = "calc(0.375rem * var(--mantine-scale))";
// As `<Text size="sm">` draws it.
const SMALL = {
  fontSize: "var(--mantine-font-size-sm)",
  lineHeight: "var(--mantine-line-height-sm)",
} as const;
const DIMMED = { ...SMALL, color: "var(--mantine-color-dimmed)" } as const;
const OVERDUE = { ...SMALL, color: "var(--mantine-color-red-9)", fontWeight: 600 } as const;

/**
 * The SLA due time as a live countdown, with a breached mark; the full date on hover. One per
 * row of the list: plain elements (`listCells.tsx`), the language, zone and translations from
 * the list, the tooltip set up on the first hover.
 */
export function SlaDue({
  due,
  breached,
  language,
  zone,
  t,
}: {
  due: string | null;
  breached: boolean;
  language: string;
  zone: string;
  t: TFunction;
}) {
  const now = useNow();
  const overdue = due !== null && new Date(due).getTime() < now;
  return (
    <PlainGroup gap={GAP} wrap="nowrap">
      {due ? (
        <HoverTooltip label={formatDateTime(due, language, zone)}>
          <span style={overdue ? OVERDUE : SMALL}>
            <time dateTime={due}>{formatRelative(due, language, now)}</time>
          </span>
        </HoverTooltip>
      ) : (
        <span style={DIMMED}>{t("sla.none")}</span>
      )}
      {breached && (
        <PlainBadge color="red.9" variant="filled" size="sm" style={WHOLE}>
          {t("sla.breached")}
        </PlainBadge>
      )}
    </PlainGroup>
  );
}
