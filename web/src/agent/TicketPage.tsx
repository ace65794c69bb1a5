import {
  Alert,
  Anchor,
  Badge,
  Button,
  Grid,
  Group,
  Loader,
  Paper,
  Stack,
  Text,
  Title,
} from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { lazy, Suspense, useState, type FocusEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { api, unwrap, type Message, type Ticket } from "../shared/api/client";
import { formatDateTime, useTimeZone } from "../shared/i18n/timezone";
import { NOTE_COLOR } from "../shared/theme";
import { PriorityBadge, StatusBadge } from "./badges";
import { downloadAttachment } from "./attachments";
import { Composer } from "./Composer";
import { CustomerPanel, useCustomer } from "./CustomerPanel";
import { Escalate } from "./Escalate";
import { FieldsPanel } from "./FieldsPanel";
import { PresenceNotice } from "./PresenceNotice";
import { useTicketLive } from "./ticketLive";
import { History } from "./History";
import { AGENT_NS } from "./i18n/register";
import { fetchMessages, messagesKey, ticketKey } from "./queries";
import { SatisfactionPanel } from "./SatisfactionPanel";
import { SlaTimers } from "./SlaTimers";
import { WORK_NS } from "./i18n/register";

const MergeDialog = lazy(() => import("./MergeDialog"));

function authorName(message: Message): string {
  const author = message.author;
  const name = author.display_name ?? author.name ?? author.email;
  if (typeof name === "string" && name) return name;
  return typeof author.kind === "string" ? author.kind : "—";
}

function MessageItem({ message, ticket }: { message: Message; ticket: Ticket }) {
  const { t, i18n } = useTranslation();
  const { t: ta } = useTranslation(AGENT_NS);
  const zone = useTimeZone();
  const internal = message.visibility === "internal";
  const fromMerged = message.ticket_id !== ticket.id;
  return (
    <Paper
      component="article"
      withBorder
      p="md"
      radius="md"
      bg={internal ? "yellow.0" : undefined}
      style={internal ? { borderLeft: `4px solid ${NOTE_COLOR}` } : undefined}
      aria-label={t(internal ? "conversation.internalBy" : "conversation.publicBy", {
        name: authorName(message),
      })}
      data-visibility={message.visibility}
    >
      <Group justify="space-between" mb="xs" wrap="nowrap">
        <Group gap="xs">
          <Text fw={600} size="sm">
            {authorName(message)}
          </Text>
          <Badge
            size="sm"
            variant={internal ? "filled" : "outline"}
            color={internal ? NOTE_COLOR : "indigo.9"}
          >
            {internal ? t("conversation.internal") : t("conversation.public")}
          </Badge>
          {message.automated && (
            <Badge size="sm" variant="outline" color="gray.8">
              {t("conversation.automated")}
            </Badge>
          )}
          {fromMerged && (
            <Badge size="sm" variant="outline" color="grape.9">
              {t("conversation.fromMerged", { number: message.ticket_number ?? "?" })}
            </Badge>
          )}
        </Group>
        <Text size="xs" c="dimmed">
          <time dateTime={message.created_at}>
            {formatDateTime(message.created_at, i18n.resolvedLanguage ?? "en", zone)}
          </time>
        </Text>
      </Group>
      {/* body_html is sanitised by the ticket service (nh3) before it is stored. */}
      <div className="message-body" dangerouslySetInnerHTML={{ __html: message.body_html }} />
      {message.attachments.length > 0 && (
        <Group gap="xs" mt="xs">
          {message.attachments.map((file) => (
            <Anchor
              key={file.attachment_id}
              component="button"
              type="button"
              size="sm"
              aria-label={ta("composer.download", { name: file.filename })}
              onClick={() => void downloadAttachment(file.attachment_id, file.filename)}
            >
              {file.filename}
            </Anchor>
          ))}
        </Group>
      )}
    </Paper>
  );
}

export default function TicketPage() {
  const { t, i18n } = useTranslation();
  const zone = useTimeZone();
  const { ticketId = "" } = useParams();
  const ticket = useQuery({
    queryKey: ticketKey(ticketId),
    queryFn: async () =>
      unwrap(await api.GET("/tickets/{ticket_id}", { params: { path: { ticket_id: ticketId } } })),
    refetchInterval: 15_000,
  });
  const messages = useQuery({
    queryKey: messagesKey(ticketId),
    queryFn: () => fetchMessages(ticketId),
    refetchInterval: 15_000,
  });

  const live = useTicketLive(ticketId);
  // "Replying" from when the focus enters a reply or note editor until it leaves the composer
  // (the others see it at once).
  const editing = (event: FocusEvent) =>
    event.target instanceof HTMLElement && event.target.isContentEditable;
  const customer = useCustomer(ticket.data?.customer_id ?? null);
  const { t: tw } = useTranslation(WORK_NS);
  const [merging, setMerging] = useState(false);

  if (ticket.isLoading) return <Loader aria-label={t("common.loading")} />;
  if (ticket.error || !ticket.data) {
    return (
      <Alert color="red" role="alert" title={t("ticket.notFound")}>
        {ticket.error?.message}
      </Alert>
    );
  }
  const current = ticket.data;
  const language = i18n.resolvedLanguage ?? "en";
  return (
    <Grid gap="lg">
      <Grid.Col span={{ base: 12, md: 8 }}>
        <Stack gap="md">
          <Anchor component={Link} to="/" size="sm">
            ← {t("ticket.back")}
          </Anchor>
          <div>
            <Group gap="xs" mb={4}>
              <Text c="dimmed" fw={600}>
                #{current.number}
              </Text>
              <StatusBadge status={current.status} category={current.status_category} />
              <PriorityBadge priority={current.priority} />
            </Group>
            <Title order={2}>{current.subject}</Title>
            <PresenceNotice others={live.others} />
            <Text size="sm" c="dimmed">
              {t("ticket.openedBy", {
                name:
                  customer.data?.name ?? current.requester_name ?? current.requester_email ?? "—",
                when: formatDateTime(current.created_at, language, zone),
                channel: current.channel,
              })}
            </Text>
            {current.merged_into && (
              <Alert color="grape" mt="sm">
                {t("ticket.mergedInto")}{" "}
                <Anchor component={Link} to={`/tickets/${current.merged_into}`}>
                  {t("ticket.openParent")}
                </Anchor>
              </Alert>
            )}
          </div>
          <section aria-labelledby="conversation-title">
            <Title order={3} size="h4" id="conversation-title" mb="sm">
              {t("conversation.title")}
            </Title>
            <Stack gap="sm">
              {current.description && (
                <Paper
                  withBorder
                  p="md"
                  radius="md"
                  component="article"
                  aria-label={t("ticket.description")}
                >
                  <Text size="xs" c="dimmed" mb={4}>
                    {t("ticket.description")}
                  </Text>
                  <Text style={{ whiteSpace: "pre-wrap" }}>{current.description}</Text>
                </Paper>
              )}
              {messages.isLoading && <Loader size="sm" aria-label={t("common.loading")} />}
              {messages.data?.map((message) => (
                <MessageItem key={message.id} message={message} ticket={current} />
              ))}
            </Stack>
          </section>
          <div
            onFocus={(event) => {
              if (editing(event)) live.setActivity("replying");
            }}
            onBlur={(event) => {
              // Still replying while the focus moves to the editor's toolbar or Send.
              const next = event.relatedTarget;
              if (!(next instanceof Node && event.currentTarget.contains(next))) {
                live.setActivity("viewing");
              }
            }}
          >
            <Composer ticket={current} />
          </div>
        </Stack>
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 4 }}>
        <Stack gap="md">
          <SlaTimers ticketId={current.id} />
          <FieldsPanel key={current.id} ticket={current} />
          <CustomerPanel ticket={current} />
          <SatisfactionPanel ticketId={current.id} />
          <History ticket={current} />
        </Stack>
        <Stack mt="md" gap="xs" align="flex-start">
          <Escalate key={current.id} ticket={current} />
        </Stack>
        {!current.merged_into && current.status_category !== "closed" && (
          <Button variant="default" mt="md" size="xs" onClick={() => setMerging(true)}>
            {tw("merge.open")}
          </Button>
        )}
        {merging && (
          <Suspense fallback={null}>
            <MergeDialog ticket={current} onClose={() => setMerging(false)} />
          </Suspense>
        )}
        <Button component={Link} to="/" variant="subtle" mt="md" size="xs">
          {t("ticket.back")}
        </Button>
      </Grid.Col>
    </Grid>
  );
}
