/**
 * The customer's satisfaction rating of this ticket (one per solved resolution), from the
 * ticket service's GET /tickets/{id}/satisfaction: the agent sees how the customer judged the
 * help without opening a report.
 */
import { Badge, Group, Stack, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, unwrap, type Schemas } from "../shared/api/client";
import { formatDateTime, useTimeZone } from "../shared/i18n/timezone";
import { WHOLE } from "./badges";
import { WORK_NS } from "./i18n/register";
import { GOOD_COLOR, SidePanel } from "./SidePanel";

type Rating = Schemas["RatingView"];

export function ratingsKey(ticketId: string) {
  return ["ticket", ticketId, "ratings"] as const;
}

function RatingItem({ rating }: { rating: Rating }) {
  const { t, i18n } = useTranslation(WORK_NS);
  const zone = useTimeZone();
  const score =
    rating.scale === "one_to_five"
      ? t("rating.stars", { score: rating.score })
      : t(rating.satisfied ? "rating.thumbsUp" : "rating.thumbsDown");
  return (
    <Stack gap={2} component="li" data-testid="rating">
      <Group gap="xs">
        <Badge color={rating.satisfied ? GOOD_COLOR : "red.9"} variant="filled" style={WHOLE}>
          {t(rating.satisfied ? "rating.satisfied" : "rating.unsatisfied")}
        </Badge>
        <Text size="sm" fw={600}>
          {score}
        </Text>
      </Group>
      {rating.comment && (
        <Text size="sm" component="blockquote" m={0} style={{ whiteSpace: "pre-wrap" }}>
          {rating.comment}
        </Text>
      )}
      <Text size="xs" c="dimmed">
        {t("rating.resolution", {
          n: rating.resolution,
          when: formatDateTime(rating.rated_at, i18n.resolvedLanguage ?? "en", zone),
        })}
      </Text>
    </Stack>
  );
}

export function SatisfactionPanel({ ticketId }: { ticketId: string }) {
  const { t } = useTranslation(WORK_NS);
  const ratings = useQuery({
    queryKey: ratingsKey(ticketId),
    queryFn: async () =>
      unwrap(
        await api.GET("/tickets/{ticket_id}/satisfaction", {
          params: { path: { ticket_id: ticketId } },
        }),
      ),
  });
  const items = ratings.data ?? [];
  return (
    <SidePanel id="rating-title" title={t("rating.title")}>
      {ratings.isSuccess && items.length === 0 && (
        <Text size="sm" c="dimmed">
          {t("rating.none")}
        </Text>
      )}
      {items.length > 0 && (
        <Stack gap="sm" component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }}>
          {items.map((rating) => (
            <RatingItem key={rating.resolution} rating={rating} />
          ))}
        </Stack>
      )}
    </SidePanel>
  );
}
