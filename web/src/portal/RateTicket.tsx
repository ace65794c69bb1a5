/** Rate a solved ticket (good / bad, or 1-5 stars when the link asks for stars), once per
 * resolution; the mail's rating link opens the ticket with ``?rate=good|bad|1..5``. */
import { Alert, Button, Group, Paper, Radio, Stack, Textarea, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useSearchParams } from "wouter";
import { api, unwrap, type Ticket } from "../shared/api/client";
import { fetchRatings, keys } from "./data";
import { NAMESPACE } from "./texts";

type Choice = "good" | "bad" | "1" | "2" | "3" | "4" | "5";
const STARS: Choice[] = ["1", "2", "3", "4", "5"];

export function RateTicket({ ticket }: { ticket: Ticket }) {
  const { t } = useTranslation(NAMESPACE);
  const queryClient = useQueryClient();
  const [params] = useSearchParams();
  const asked = params.get("rate") as Choice | null;
  const [choice, setChoice] = useState<Choice | null>(asked);
  const [comment, setComment] = useState("");
  const stars = asked !== null && STARS.includes(asked);
  const ratings = useQuery({
    queryKey: keys.ratings(ticket.id),
    queryFn: () => fetchRatings(ticket.id),
  });
  const rate = useMutation({
    mutationFn: async (picked: Choice) =>
      unwrap(
        await api.POST("/tickets/{ticket_id}/satisfaction", {
          params: { path: { ticket_id: ticket.id } },
          body:
            picked === "good" || picked === "bad"
              ? { scale: "good_bad", score: picked === "good" ? 1 : 0, comment: comment || null }
              : { scale: "one_to_five", score: Number(picked), comment: comment || null },
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: keys.ratings(ticket.id) }),
  });
  // Rated for this resolution: a rating given after the ticket last became Solved.
  const rated = (ratings.data ?? []).some((rating) => rating.rated_at >= ticket.updated_at);
  if (rate.isSuccess || rated) {
    return (
      <Alert color="green" role="status">
        {rate.isSuccess ? t("rate.thanks") : t("rate.already")}
      </Alert>
    );
  }
  const options: Choice[] = stars ? STARS : ["good", "bad"];
  return (
    <Paper withBorder p="md" radius="md">
      <Stack>
        <Title order={2} size="h4">
          {t("rate.title")}
        </Title>
        {rate.isError && (
          <Alert color="red" role="alert">
            {t("error", { detail: rate.error.message })}
          </Alert>
        )}
        {/* Radios, not chips: a chip's unchecked label was below AA contrast (axe). */}
        <Radio.Group
          value={choice ?? ""}
          onChange={(value) => setChoice(value as Choice)}
          label={t("rate.scale")}
        >
          <Group gap="md" mt="xs">
            {options.map((option) => (
              <Radio
                key={option}
                value={option}
                label={
                  option === "good" || option === "bad"
                    ? t(`rate.${option}`)
                    : t("rate.stars", { count: Number(option) })
                }
              />
            ))}
          </Group>
        </Radio.Group>
        <Textarea
          label={t("rate.comment")}
          maxLength={2000}
          autosize
          minRows={2}
          value={comment}
          onChange={(event) => setComment(event.currentTarget.value)}
        />
        <Group>
          <Button
            disabled={choice === null}
            loading={rate.isPending}
            onClick={() => choice && rate.mutate(choice)}
          >
            {t("rate.submit")}
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}
