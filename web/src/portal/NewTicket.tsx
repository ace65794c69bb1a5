/** Open a ticket: subject, rich-text description, attachments, and the fields a customer may
 * set (type, category, a priority below the highest), validated again by the service. */
import { Alert, Anchor, Button, NativeSelect, Stack, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState, type SyntheticEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation } from "wouter";
import { api, newIdempotencyKey, unwrap } from "../shared/api/client";
import { AttachmentPicker, withinLimit } from "./Attachments";
import { fetchOptions, keys, uploadAll } from "./data";
import { RichText, type RichTextHandle } from "./RichText";
import { NAMESPACE } from "./texts";

export default function NewTicket() {
  const { t } = useTranslation(NAMESPACE);
  const [, navigate] = useLocation();
  const queryClient = useQueryClient();
  const options = useQuery({ queryKey: keys.options, queryFn: fetchOptions, staleTime: 300_000 });
  const description = useRef<RichTextHandle>(null);
  const [subject, setSubject] = useState("");
  const [priority, setPriority] = useState("");
  const [type, setType] = useState("");
  const [category, setCategory] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const [key] = useState(newIdempotencyKey);
  const priorities = options.data ? options.data.priorities.slice(0, -1) : [];
  const create = useMutation({
    mutationFn: async () => {
      const attachmentIds = await uploadAll(files);
      return unwrap(
        await api.POST("/tickets", {
          headers: { "Idempotency-Key": key },
          body: {
            subject: subject.trim(),
            description: description.current?.html() ?? "",
            channel: "portal",
            attachment_ids: attachmentIds,
            ...(priority ? { priority } : {}),
            ...(type ? { type } : {}),
            ...(category ? { category } : {}),
          },
        }),
      );
    },
    onSuccess: (ticket) => {
      void queryClient.invalidateQueries({ queryKey: ["tickets"] });
      navigate(`/tickets/${ticket.id}`);
    },
  });
  const choices = (values: string[] | undefined) => [
    { value: "", label: t("create.none") },
    ...(values ?? []).map((value) => ({ value, label: value })),
  ];

  function submit(event: SyntheticEvent) {
    event.preventDefault();
    if (withinLimit(files)) create.mutate();
  }

  return (
    <form onSubmit={submit}>
      <Stack>
        <Anchor component={Link} to="/" size="sm">
          ← {t("create.back")}
        </Anchor>
        <Title order={1} size="h2">
          {t("create.title")}
        </Title>
        {create.isError && (
          <Alert color="red" role="alert">
            {t("error", { detail: create.error.message })}
          </Alert>
        )}
        <TextInput
          label={t("create.subject")}
          required
          maxLength={500}
          value={subject}
          onChange={(event) => setSubject(event.currentTarget.value)}
        />
        <RichText ref={description} label={t("create.description")} />
        {priorities.length > 1 && (
          <NativeSelect
            label={t("create.priority")}
            value={priority}
            onChange={(event) => setPriority(event.currentTarget.value)}
            data={choices(priorities)}
          />
        )}
        {(options.data?.types?.length ?? 0) > 0 && (
          <NativeSelect
            label={t("create.type")}
            value={type}
            onChange={(event) => setType(event.currentTarget.value)}
            data={choices(options.data?.types)}
          />
        )}
        {(options.data?.categories?.length ?? 0) > 0 && (
          <NativeSelect
            label={t("create.category")}
            value={category}
            onChange={(event) => setCategory(event.currentTarget.value)}
            data={choices(options.data?.categories)}
          />
        )}
        <AttachmentPicker label={t("create.attachments")} files={files} onChange={setFiles} />
        <Button type="submit" loading={create.isPending}>
          {t("create.submit")}
        </Button>
      </Stack>
    </form>
  );
}
