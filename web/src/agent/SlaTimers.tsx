/**
 * The ticket's SLA timers (first response, next response, resolution) from the SLA service,
 * through the gateway at /api/sla/tickets/{id}/sla: the due time in the agent's zone with a
 * live countdown, the business time left (or over), and whether the clock runs, is paused, was
 * met or is breached. The SLA service's document has no schemas, so its answer is typed here.
 */
import { Badge, Group, Stack, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ApiError, authorisedFetch } from "../shared/api/client";
import { formatDateTime, formatRelative, useTimeZone } from "../shared/i18n/timezone";
import { WHOLE } from "./badges";
import { WORK_NS } from "./i18n/register";
import { GOOD_COLOR, SidePanel } from "./SidePanel";
import { useNow } from "./useNow";

type MetricName = "first_response" | "next_response" | "resolution";

export interface SlaMetric {
  state: "running" | "paused" | "met";
  target_seconds: number;
  elapsed_seconds: number;
  due_at: string | null;
  met_at: string | null;
  breached: boolean;
  warned: boolean;
}

export interface TicketSla {
  ticket_id: string;
  policy: string;
  priority: string;
  status_category: string;
  metrics: Partial<Record<MetricName, SlaMetric>>;
}

const ORDER: MetricName[] = ["first_response", "next_response", "resolution"];

export function slaKey(ticketId: string) {
  return ["ticket", ticketId, "sla"] as const;
}

/** The SLA clocks, or null when no SLA is tracked for the ticket (404). */
export async function fetchTicketSla(ticketId: string): Promise<TicketSla | null> {
  const response = await authorisedFetch(
    new Request(`/api/sla/tickets/${encodeURIComponent(ticketId)}/sla`),
  );
  if (response.status === 404) return null;
  if (!response.ok) throw new ApiError(response.status, "SLA times unavailable");
  return (await response.json()) as TicketSla;
}

function useDuration() {
  const { t } = useTranslation(WORK_NS);
  return (seconds: number): string => {
    const minutes = Math.round(Math.abs(seconds) / 60);
    const hours = Math.floor(minutes / 60);
    return hours > 0
      ? t("sla.hoursMinutes", { hours, minutes: minutes % 60 })
      : t("sla.minutes", { minutes });
  };
}

function MetricRow({ name, metric, now }: { name: MetricName; metric: SlaMetric; now: number }) {
  const { t, i18n } = useTranslation(WORK_NS);
  const zone = useTimeZone();
  const duration = useDuration();
  const language = i18n.resolvedLanguage ?? "en";
  const state = metric.breached ? "breached" : metric.state;
  const left = metric.target_seconds - metric.elapsed_seconds;
  const color = { breached: "red.9", met: GOOD_COLOR, paused: "gray.8", running: "indigo.9" }[
    state
  ];
  return (
    <Stack gap={2} component="li" data-metric={name} data-state={state}>
      <Group justify="space-between" wrap="nowrap">
        <Text fw={600} size="sm">
          {t(`sla.metric.${name}`)}
        </Text>
        <Badge color={color} variant={state === "running" ? "outline" : "filled"} style={WHOLE}>
          {t(`sla.state.${state}`)}
        </Badge>
      </Group>
      {metric.met_at ? (
        <Text size="sm">
          {t("sla.metAt", { when: formatDateTime(metric.met_at, language, zone) })}
        </Text>
      ) : (
        metric.due_at && (
          <Text size="sm">
            {t("sla.due", { when: formatDateTime(metric.due_at, language, zone) })} (
            <time dateTime={metric.due_at}>{formatRelative(metric.due_at, language, now)}</time>)
          </Text>
        )
      )}
      {!metric.met_at && (
        <Text size="xs" c={left < 0 ? "red.9" : "dimmed"}>
          {t(left < 0 ? "sla.over" : "sla.remaining", { time: duration(left) })}
        </Text>
      )}
    </Stack>
  );
}

export function SlaTimers({ ticketId }: { ticketId: string }) {
  const { t } = useTranslation(WORK_NS);
  const now = useNow(15_000);
  const sla = useQuery({
    queryKey: slaKey(ticketId),
    queryFn: () => fetchTicketSla(ticketId),
    refetchInterval: 60_000,
    retry: 1,
  });
  const metrics = sla.data
    ? ORDER.flatMap((name) => {
        const metric = sla.data?.metrics[name];
        return metric ? [{ name, metric }] : [];
      })
    : [];
  return (
    <SidePanel id="sla-title" title={t("sla.title")}>
      {sla.isError && (
        <Text size="sm" c="dimmed">
          {t("sla.unavailable")}
        </Text>
      )}
      {sla.data === null && (
        <Text size="sm" c="dimmed">
          {t("sla.none")}
        </Text>
      )}
      {sla.data && (
        <>
          <Text size="xs" c="dimmed">
            {t("sla.policy", { policy: sla.data.policy })}
          </Text>
          <Stack gap="sm" component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }}>
            {metrics.map(({ name, metric }) => (
              <MetricRow key={name} name={name} metric={metric} now={now} />
            ))}
          </Stack>
        </>
      )}
    </SidePanel>
  );
}
