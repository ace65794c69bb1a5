/**
 * Reply to the customer, reply and set Waiting on Customer, or add an internal note: rich text
 * (RichText.tsx) with attachments (a button or drag and drop, 20 MB each, uploaded at once so
 * the message only names them). Each kind keeps its own draft and files while the other is open.
 */
import {
  Alert,
  Button,
  CloseButton,
  FileButton,
  Group,
  Paper,
  Pill,
  Stack,
  Tabs,
  Text,
} from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type DragEvent } from "react";
import { useTranslation } from "react-i18next";
import { api, unwrap, type Ticket } from "../shared/api/client";
import { NOTE_COLOR } from "../shared/theme";
import { TooLarge, uploadAttachment, type AttachmentRef } from "./attachments";
import { AGENT_NS, TOOLS_NS } from "./i18n/register";
import { fetchMessages, messagesKey, ticketKey } from "./queries";
import { MentionOffer, useMentions } from "./Mentions";
import { RichText, useRichText } from "./RichText";

const WAITING_ON_CUSTOMER = "Waiting on Customer";
const NOTE_TINT = "var(--mantine-color-yellow-0)";

type Kind = "public" | "internal";

interface Draft {
  html: string;
  empty: boolean;
  files: AttachmentRef[];
}

const EMPTY: Draft = { html: "", empty: true, files: [] };

export function Composer({ ticket }: { ticket: Ticket }) {
  const { t } = useTranslation();
  const { t: ta } = useTranslation(AGENT_NS);
  const { t: tt } = useTranslation(TOOLS_NS);
  const queryClient = useQueryClient();
  const [kind, setKind] = useState<Kind>("public");
  const [drafts, setDrafts] = useState<Record<Kind, Draft>>({ public: EMPTY, internal: EMPTY });
  const [uploadError, setUploadError] = useState<string | null>(null);
  const [uploading, setUploading] = useState(0);
  const edit = (which: Kind) => (html: string, empty: boolean) =>
    setDrafts((previous) => ({ ...previous, [which]: { ...previous[which], html, empty } }));
  const mentions = useMentions();
  const editors = {
    public: useRichText(t("composer.replyLabel"), edit("public")),
    internal: useRichText(t("composer.noteLabel"), edit("internal"), [mentions.extension]),
  };

  const send = useMutation({
    mutationFn: async (input: { kind: Kind; setStatus?: string }) => {
      const draft = drafts[input.kind];
      return unwrap(
        await api.POST("/tickets/{ticket_id}/messages", {
          params: { path: { ticket_id: ticket.id } },
          body: {
            body: draft.html,
            visibility: input.kind,
            ...(draft.files.length
              ? { attachment_ids: draft.files.map((f) => f.attachment_id) }
              : {}),
            ...(input.setStatus ? { set_status: input.setStatus } : {}),
          },
        }),
      );
    },
    onSuccess: async (answer, input) => {
      editors[input.kind].commands.clearContent(true);
      setDrafts((previous) => ({ ...previous, [input.kind]: EMPTY }));
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

  async function attach(files: File[]) {
    const which = kind;
    setUploadError(null);
    for (const file of files) {
      setUploading((n) => n + 1);
      try {
        const ref = await uploadAttachment(file);
        setDrafts((previous) => ({
          ...previous,
          [which]: { ...previous[which], files: [...previous[which].files, ref] },
        }));
      } catch (caught) {
        setUploadError(
          caught instanceof TooLarge
            ? ta("composer.tooBig", { name: file.name })
            : ta("composer.uploadFailed", { name: file.name, reason: String(caught) }),
        );
      } finally {
        setUploading((n) => n - 1);
      }
    }
  }

  function detach(id: string) {
    setDrafts((previous) => ({
      ...previous,
      [kind]: {
        ...previous[kind],
        files: previous[kind].files.filter((file) => file.attachment_id !== id),
      },
    }));
  }

  function dropped(event: DragEvent) {
    event.preventDefault();
    void attach(Array.from(event.dataTransfer.files));
  }

  const draft = drafts[kind];
  const blocked = draft.empty || uploading > 0;
  return (
    <Paper
      withBorder
      p="md"
      radius="md"
      component="section"
      aria-label={t("composer.label")}
      data-composer
      onDragOver={(event) => event.preventDefault()}
      onDrop={dropped}
    >
      <Tabs
        value={kind}
        onChange={(value) => setKind(value === "internal" ? "internal" : "public")}
      >
        <Tabs.List mb="sm">
          <Tabs.Tab value="public" data-shortcut="reply">
            {t("composer.reply")}
          </Tabs.Tab>
          <Tabs.Tab value="internal" data-shortcut="note">
            {t("composer.note")}
          </Tabs.Tab>
        </Tabs.List>
      </Tabs>
      {kind === "internal" && (
        <Text size="sm" c="dimmed" mb="xs">
          {t("composer.noteHint")} {tt("mention.hint")}
        </Text>
      )}
      <div hidden={kind !== "public"}>
        <RichText editor={editors.public} />
      </div>
      <div hidden={kind !== "internal"}>
        <RichText editor={editors.internal} tint={NOTE_TINT} />
        <MentionOffer offer={mentions.offer} />
      </div>
      <Stack gap="xs" mt="sm">
        <Group gap="xs">
          <FileButton multiple onChange={(files) => void attach(files)}>
            {(props) => (
              <Button {...props} variant="default" size="xs" loading={uploading > 0}>
                {ta("composer.attach")}
              </Button>
            )}
          </FileButton>
          <Text size="xs" c="dimmed">
            {ta("composer.dropHint")}
          </Text>
        </Group>
        {draft.files.length > 0 && (
          <Group gap="xs" role="list" aria-label={ta("composer.attached")}>
            {draft.files.map((file) => (
              <Pill key={file.attachment_id} role="listitem">
                <Group gap={4} wrap="nowrap">
                  {file.filename}
                  <CloseButton
                    size="xs"
                    aria-label={ta("composer.remove", { name: file.filename })}
                    onClick={() => detach(file.attachment_id)}
                  />
                </Group>
              </Pill>
            ))}
          </Group>
        )}
        {uploadError && (
          <Alert color="red" role="alert">
            {uploadError}
          </Alert>
        )}
      </Stack>
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
              disabled={blocked}
              loading={send.isPending && send.variables.setStatus !== undefined}
              onClick={() => send.mutate({ kind, setStatus: WAITING_ON_CUSTOMER })}
            >
              {t("composer.sendAndWait")}
            </Button>
            <Button
              disabled={blocked}
              loading={send.isPending && send.variables.setStatus === undefined}
              onClick={() => send.mutate({ kind })}
            >
              {t("composer.send")}
            </Button>
          </>
        ) : (
          <Button
            color={NOTE_COLOR}
            disabled={blocked}
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
