import { Alert, Button, Group, Paper, Tabs, Textarea } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, unwrap, type Ticket } from "../shared/api/client";
import { NOTE_COLOR } from "../shared/theme";
import { fetchMessages, messagesKey, ticketKey } from "./queries";

const WAITING_ON_CUSTOMER = "Waiting on Customer";

/** Plain text typed by the agent as HTML paragraphs (escaped), as the service stores HTML. */
export function textToHtml(text: string): string {
  const escape = (s: string) =>
    s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  return text
    .trim()
    .split(/\n{2,}/)
    .map((paragraph) => `<p>${escape(paragraph).replace(/\n/g, "<br>")}</p>`)
    .join("");
}

type Kind = "public" | "internal";

/** Reply to the customer, reply and set Waiting on Customer, or add an internal note. */
export function Composer({ ticket }: { ticket: Ticket }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [kind, setKind] = useState<Kind>("public");
  const [drafts, setDrafts] = useState<Record<Kind, string>>({ public: "", internal: "" });
  const send = useMutation({
    mutationFn: async (input: { kind: Kind; setStatus?: string }) =>
      unwrap(
        await api.POST("/tickets/{ticket_id}/messages", {
          params: { path: { ticket_id: ticket.id } },
          body: {
            body: textToHtml(drafts[input.kind]),
            visibility: input.kind,
            ...(input.setStatus ? { set_status: input.setStatus } : {}),
          },
        }),
      ),
    onSuccess: async (answer, input) => {
      setDrafts((previous) => ({ ...previous, [input.kind]: "" }));
      queryClient.setQueryData(ticketKey(ticket.id), answer.ticket);
      await untilListed(answer.message_id);
      void queryClient.invalidateQueries({ queryKey: ["tickets"] });
    },
  });
  // The conversation is a read model that follows the event log: it may take a moment to show
  // the message just sent, so fetch it again until it does (a few tries).
  async function untilListed(messageId: string | null) {
    for (let attempt = 0; attempt < 20; attempt++) {
      const listed = await queryClient.query({
        queryKey: messagesKey(ticket.id),
        queryFn: () => fetchMessages(ticket.id),
        staleTime: 0,
      });
      if (!messageId || listed.some((message) => message.id === messageId)) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  const text = drafts[kind];
  const empty = text.trim() === "";
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-label={t("composer.label")}>
      <Tabs
        value={kind}
        onChange={(value) => setKind(value === "internal" ? "internal" : "public")}
      >
        <Tabs.List mb="sm">
          <Tabs.Tab value="public">{t("composer.reply")}</Tabs.Tab>
          <Tabs.Tab value="internal">{t("composer.note")}</Tabs.Tab>
        </Tabs.List>
      </Tabs>
      <Textarea
        label={kind === "public" ? t("composer.replyLabel") : t("composer.noteLabel")}
        description={kind === "internal" ? t("composer.noteHint") : undefined}
        autosize
        minRows={4}
        maxRows={14}
        value={text}
        onChange={(event) => {
          const value = event.currentTarget.value;
          setDrafts((previous) => ({ ...previous, [kind]: value }));
        }}
        styles={
          kind === "internal"
            ? { input: { background: "var(--mantine-color-yellow-0)" } }
            : undefined
        }
      />
      {send.error && (
        <Alert color="red" role="alert" mt="sm">
          {send.error.message}
        </Alert>
      )}
      <Group mt="sm" justify="flex-end">
        {kind === "public" ? (
          <>
            <Button
              variant="default"
              disabled={empty}
              loading={send.isPending && send.variables.setStatus !== undefined}
              onClick={() => send.mutate({ kind, setStatus: WAITING_ON_CUSTOMER })}
            >
              {t("composer.sendAndWait")}
            </Button>
            <Button
              disabled={empty}
              loading={send.isPending && send.variables.setStatus === undefined}
              onClick={() => send.mutate({ kind })}
            >
              {t("composer.send")}
            </Button>
          </>
        ) : (
          <Button
            color={NOTE_COLOR}
            disabled={empty}
            loading={send.isPending}
            onClick={() => send.mutate({ kind })}
          >
            {t("composer.addNote")}
          </Button>
        )}
      </Group>
    </Paper>
  );
}
