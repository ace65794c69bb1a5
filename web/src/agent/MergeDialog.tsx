/**
 * Merge this ticket into another, as seed 003 describes it: search the target by subject words,
 * #number or the contact's email (GET /tickets?q=), pick it, confirm. The ticket service closes
 * this ticket with a private note naming the target and shows its messages in the target's
 * conversation; the agent lands on the target. Loaded lazily with the ticket page's button.
 */
import { Alert, Button, Group, Loader, Modal, Radio, Stack, Text, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { api, unwrap, type Ticket, type TicketSummary } from "../shared/api/client";
import { WORK_NS } from "./i18n/register";

export default function MergeDialog({ ticket, onClose }: { ticket: Ticket; onClose: () => void }) {
  const { t } = useTranslation(WORK_NS);
  const { t: tc } = useTranslation();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [search, setSearch] = useState("");
  const [q] = useDebouncedValue(search.trim(), 300);
  const [targetId, setTargetId] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const found = useQuery({
    queryKey: ["tickets", { q, view: "unsolved", page_size: 10 }],
    queryFn: async () =>
      unwrap(
        await api.GET("/tickets", { params: { query: { q, view: "unsolved", page_size: 10 } } }),
      ),
    enabled: q.length > 0,
  });
  const candidates = (found.data?.items ?? []).filter((item) => item.id !== ticket.id);
  const target: TicketSummary | undefined = candidates.find((item) => item.id === targetId);

  async function merge(into: TicketSummary) {
    setBusy(true);
    setError(null);
    try {
      unwrap(
        await api.POST("/tickets/{ticket_id}/merge", {
          params: { path: { ticket_id: into.id } },
          body: { children: [ticket.id] },
        }),
      );
      await queryClient.invalidateQueries({ queryKey: ["ticket"] });
      await queryClient.invalidateQueries({ queryKey: ["tickets"] });
      onClose();
      void navigate(`/tickets/${into.id}`);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
      setConfirming(false);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      opened
      onClose={onClose}
      title={t("merge.title", { number: ticket.number })}
      size="lg"
      closeButtonProps={{ "aria-label": tc("common.close") }}
    >
      <Stack gap="sm">
        {error && (
          <Alert color="red" role="alert" title={t("merge.failed")}>
            {error}
          </Alert>
        )}
        {confirming && target ? (
          <>
            <Text>
              {t("merge.confirm", {
                child: ticket.number,
                parent: target.number,
                subject: target.subject,
              })}
            </Text>
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setConfirming(false)} disabled={busy}>
                {t("merge.back")}
              </Button>
              <Button color="red.9" onClick={() => void merge(target)} loading={busy}>
                {t("merge.do")}
              </Button>
            </Group>
          </>
        ) : (
          <>
            <TextInput
              label={t("merge.search")}
              description={t("merge.searchHint")}
              value={search}
              onChange={(event) => setSearch(event.currentTarget.value)}
              data-autofocus
            />
            {found.isFetching && <Loader size="sm" aria-label={tc("common.loading")} />}
            {found.isSuccess && candidates.length === 0 && (
              <Text size="sm" c="dimmed">
                {t("merge.nothing")}
              </Text>
            )}
            {candidates.length > 0 && (
              <Radio.Group label={t("merge.target")} value={targetId} onChange={setTargetId}>
                <Stack gap="xs" mt="xs">
                  {candidates.map((item) => (
                    <Radio
                      key={item.id}
                      value={item.id}
                      label={`#${item.number ?? "?"} ${item.subject}`}
                      description={item.requester_email ?? undefined}
                    />
                  ))}
                </Stack>
              </Radio.Group>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={onClose}>
                {t("merge.cancel")}
              </Button>
              <Button disabled={!target} onClick={() => setConfirming(true)}>
                {t("merge.next")}
              </Button>
            </Group>
          </>
        )}
      </Stack>
    </Modal>
  );
}
