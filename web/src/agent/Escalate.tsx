/**
 * Escalate to the next tier: the ticket service's POST /tickets/{id}/escalate moves the ticket
 * to the team its team escalates to (L1 → L2), with the reason as an internal note. The button
 * names the next team and shows only when there is one and the ticket is still being worked;
 * If-Match carries the version on screen, so a concurrent change is a 409 the dialog explains.
 * Changing to any other team is the fields panel's Team field.
 */
import { Alert, Button, Group, Modal, Stack, Text, Textarea } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, unwrap, type Ticket } from "../shared/api/client";
import { useTeams } from "./data";
import { TOOLS_NS } from "./i18n/register";
import { ticketKey } from "./queries";

const FINISHED = new Set(["resolved", "closed"]);

export function Escalate({ ticket }: { ticket: Ticket }) {
  const { t } = useTranslation(TOOLS_NS);
  const { t: tc } = useTranslation();
  const queryClient = useQueryClient();
  const teams = useTeams();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const from = teams.data?.find((team) => team.id === ticket.team_id);
  const to = teams.data?.find((team) => team.id === from?.escalates_to);
  const escalate = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/tickets/{ticket_id}/escalate", {
          params: { path: { ticket_id: ticket.id }, header: { "if-match": `"${ticket.version}"` } },
          body: reason.trim() ? { reason: reason.trim() } : {},
        }),
      ),
    onSuccess: (updated) => {
      queryClient.setQueryData(ticketKey(ticket.id), updated);
      void queryClient.invalidateQueries({ queryKey: ["tickets"] });
      setDone(to?.name ?? null);
      setOpen(false);
      setReason("");
    },
  });
  const name = (team: typeof to) =>
    team
      ? team.tier
        ? `${team.name} (${t("escalate.tier", { tier: team.tier })})`
        : team.name
      : "";

  const status = done && (
    <Text size="sm" c="teal.9" role="status">
      {t("escalate.done", { team: done })}
    </Text>
  );
  if (!from || !to || ticket.merged_into || FINISHED.has(ticket.status_category)) return status;
  return (
    <>
      {status}
      <Button variant="default" size="xs" onClick={() => setOpen(true)} data-shortcut="escalate">
        {t("escalate.open", { team: to.name })}
      </Button>
      <Modal
        opened={open}
        onClose={() => setOpen(false)}
        title={t("escalate.title", { number: ticket.number })}
        closeButtonProps={{ "aria-label": tc("common.close") }}
      >
        <form
          onSubmit={(event) => {
            event.preventDefault();
            escalate.mutate();
          }}
        >
          <Stack gap="sm">
            <Text size="sm">
              {t("escalate.explain", { number: ticket.number, from: name(from), to: name(to) })}
            </Text>
            <Textarea
              label={t("escalate.reason")}
              value={reason}
              onChange={(event) => setReason(event.currentTarget.value)}
              autosize
              minRows={2}
              maxLength={2000}
              data-autofocus
            />
            {escalate.error && (
              <Alert color="red" role="alert" title={t("escalate.failed")}>
                {escalate.error.message}
              </Alert>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setOpen(false)}>
                {t("escalate.cancel")}
              </Button>
              <Button type="submit" loading={escalate.isPending}>
                {t("escalate.do")}
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </>
  );
}
