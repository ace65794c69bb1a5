/**
 * A ticket as its customer sees it: status, when a first response and the resolution are due,
 * the public conversation (the service never sends internal notes to a customer), a reply
 * with attachments (replying to a solved ticket reopens it), "my issue is resolved", and the
 * satisfaction rating once it is solved.
 */
import { Alert, Anchor, Button, Group, Paper, Stack, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "wouter";
import { api, unwrap, type Message, type Ticket } from "../shared/api/client";
import { formatDateTime, useTimeZone } from "../shared/i18n/timezone";
import { Loading } from "./App";
import { AttachmentPicker, withinLimit } from "./Attachments";
import { fetchMessages, fetchSummary, fetchTicket, keys, uploadAll } from "./data";
import { RateTicket } from "./RateTicket";
import { RichText, type RichTextHandle } from "./RichText";
import { StatusBadge } from "./StatusBadge";
import { NAMESPACE } from "./texts";

function When({ iso }: { iso: string }) {
  const { i18n } = useTranslation();
  const zone = useTimeZone();
  return <time dateTime={iso}>{formatDateTime(iso, i18n.language, zone)}</time>;
}

function MessageCard({ message }: { message: Message }) {
  const { t } = useTranslation(NAMESPACE);
  const byCustomer = (message.author as { kind?: string }).kind === "customer";
  return (
    <Paper
      withBorder
      p="sm"
      radius="md"
      bg={byCustomer ? "gray.0" : "white"}
      ml={byCustomer ? "lg" : 0}
      mr={byCustomer ? 0 : "lg"}
    >
      <Group justify="space-between" gap="xs">
        <Text size="sm" fw={600}>
          {byCustomer ? t("ticket.you") : t("ticket.support")}
        </Text>
        <Text size="xs" c="dimmed">
          <When iso={message.created_at} />
        </Text>
      </Group>
      {/* body_html is sanitised by the ticket service (nh3) before it is stored. */}
      <div className="message-body" dangerouslySetInnerHTML={{ __html: message.body_html }} />
      {message.attachments.map((file) => (
        <Anchor
          key={file.attachment_id}
          size="sm"
          display="block"
          onClick={() => void download(file.attachment_id, file.filename)}
          component="button"
          type="button"
        >
          📎 {file.filename}
        </Anchor>
      ))}
    </Paper>
  );
}

/** Downloads need the bearer token, so fetch the file and hand the browser a blob. */
async function download(id: string, filename: string) {
  const answer = await api.GET("/attachments/{attachment_id}", {
    params: { path: { attachment_id: id } },
    parseAs: "blob",
  });
  const blob = unwrap(answer);
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.click();
  URL.revokeObjectURL(url);
}

function Reply({ ticket }: { ticket: Ticket }) {
  const { t } = useTranslation(NAMESPACE);
  const queryClient = useQueryClient();
  const editor = useRef<RichTextHandle>(null);
  const [files, setFiles] = useState<File[]>([]);
  const send = useMutation({
    mutationFn: async () => {
      const attachmentIds = await uploadAll(files);
      return unwrap(
        await api.POST("/tickets/{ticket_id}/messages", {
          params: { path: { ticket_id: ticket.id } },
          body: {
            body: editor.current?.html() ?? "",
            visibility: "public",
            attachment_ids: attachmentIds,
          },
        }),
      );
    },
    onSuccess: (answer) => {
      editor.current?.clear();
      setFiles([]);
      queryClient.setQueryData(keys.ticket(ticket.id), answer.ticket);
      void untilListed(answer.message_id);
    },
  });
  // The conversation is a read model that follows the event log: fetch it again until it
  // shows the message just sent (a few tries), without holding the form busy meanwhile.
  async function untilListed(messageId: string | null) {
    for (let attempt = 0; attempt < 20; attempt++) {
      const listed = await queryClient.query({
        queryKey: keys.messages(ticket.id),
        queryFn: () => fetchMessages(ticket.id),
        staleTime: 0,
      });
      if (!messageId || listed.some((message) => message.id === messageId)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    void queryClient.invalidateQueries({ queryKey: ["tickets"] });
  }
  const resolved = ticket.status_category === "resolved";
  return (
    <Stack gap="xs">
      {send.isError && (
        <Alert color="red" role="alert">
          {t("error", { detail: send.error.message })}
        </Alert>
      )}
      <RichText ref={editor} label={t("ticket.reply")} minHeight={80} />
      {resolved && (
        <Text size="sm" c="dimmed">
          {t("ticket.reopenHint")}
        </Text>
      )}
      <AttachmentPicker label={t("ticket.attach")} files={files} onChange={setFiles} />
      <Group>
        <Button loading={send.isPending} onClick={() => withinLimit(files) && send.mutate()}>
          {t("ticket.send")}
        </Button>
      </Group>
    </Stack>
  );
}

function Resolve({ ticket }: { ticket: Ticket }) {
  const { t } = useTranslation(NAMESPACE);
  const queryClient = useQueryClient();
  const resolve = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/tickets/{ticket_id}/resolve", {
          params: { path: { ticket_id: ticket.id } },
        }),
      ),
    onSuccess: (answer) => {
      queryClient.setQueryData(keys.ticket(ticket.id), answer);
      void queryClient.invalidateQueries({ queryKey: ["tickets"] });
    },
  });
  if (resolve.isError) {
    return (
      <Alert color="red" role="alert">
        {t("error", { detail: resolve.error.message })}
      </Alert>
    );
  }
  return (
    <Button variant="default" loading={resolve.isPending} onClick={() => resolve.mutate()}>
      {t("ticket.resolved")}
    </Button>
  );
}

export default function TicketPage() {
  const { t } = useTranslation(NAMESPACE);
  const { ticketId } = useParams<{ ticketId: string }>();
  const ticket = useQuery({
    queryKey: keys.ticket(ticketId),
    queryFn: () => fetchTicket(ticketId),
  });
  const messages = useQuery({
    queryKey: keys.messages(ticketId),
    queryFn: () => fetchMessages(ticketId),
  });
  const summary = useQuery({
    queryKey: keys.summary(ticketId),
    queryFn: () => fetchSummary(ticket.data as Ticket),
    enabled: ticket.isSuccess,
  });
  if (ticket.isPending) return <Loading />;
  if (ticket.isError) {
    return (
      <Alert color="red" role="alert">
        {t("error", { detail: ticket.error.message })}
      </Alert>
    );
  }
  const current = ticket.data;
  const category = current.status_category;
  const open = category !== "resolved" && category !== "closed";
  const due = summary.data;
  return (
    <Stack>
      <Anchor component={Link} to="/" size="sm">
        ← {t("ticket.back")}
      </Anchor>
      <Stack gap={4}>
        <Text size="sm" c="dimmed">
          {t("ticket.number", { number: current.number })}
        </Text>
        <Title order={1} size="h2">
          {current.subject}
        </Title>
        <Group gap="xs">
          <StatusBadge status={current.status} category={category} />
          <Text size="sm" c="dimmed">
            {t("ticket.opened")} <When iso={current.created_at} />
          </Text>
        </Group>
        {open && due?.first_response_due && current.status === "New" && (
          <Text size="sm" data-testid="sla-first-response">
            {t("ticket.firstResponseDue")} <When iso={due.first_response_due} />
          </Text>
        )}
        {open && due?.resolution_due && (
          <Text size="sm" data-testid="sla-resolution">
            {t("ticket.resolutionDue")} <When iso={due.resolution_due} />
          </Text>
        )}
      </Stack>
      {current.description && (
        <Paper withBorder p="sm" radius="md">
          {/* sanitised by the ticket service (nh3) */}
          <div className="message-body" dangerouslySetInnerHTML={{ __html: current.description }} />
        </Paper>
      )}
      <Title order={2} size="h4">
        {t("ticket.conversation")}
      </Title>
      <Stack gap="xs" data-testid="conversation">
        {(messages.data ?? []).map((message) => (
          <MessageCard key={message.id} message={message} />
        ))}
      </Stack>
      {category === "resolved" && <RateTicket ticket={current} />}
      {category === "closed" ? (
        <Alert color="gray" role="status">
          {t("ticket.closedHint")}
        </Alert>
      ) : (
        <Reply ticket={current} />
      )}
      {open && <Resolve ticket={current} />}
    </Stack>
  );
}
