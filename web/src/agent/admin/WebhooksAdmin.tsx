/**
 * Webhooks (managers): the notification service's subscriptions, through the gateway's
 * /api/webhooks. Add one (URL, event types, an optional condition), rotate its signing secret
 * (the new secret is shown once: the service keeps only what verifies it), delete it, and read
 * its recent deliveries with their attempts, sending one again when the receiver missed it.
 */
import {
  Alert,
  Badge,
  Button,
  Code,
  CopyButton,
  Group,
  Paper,
  Stack,
  TagsInput,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../shared/api/client";
import { adminApi, type AdminSchemas } from "./adminApi";
import { FormCard, ItemsTable, noContent, SaveResult, useSaving } from "./common";

type Webhook = AdminSchemas["WebhookOut"];
type Delivery = AdminSchemas["DeliveryOut"];

/** Suggestions only: the service names every type it knows when one is wrong. */
const EVENT_TYPES = [
  "*",
  "TicketCreated",
  "StatusChanged",
  "MessageAdded",
  "TicketAssigned",
  "PriorityChanged",
  "SlaBreached",
  "AgentInvited",
];

const WEBHOOKS = ["webhooks"];

function useWebhooks() {
  return useQuery({
    queryKey: WEBHOOKS,
    queryFn: async (): Promise<Webhook[]> => unwrap(await adminApi.GET("/webhooks")),
  });
}

/** A secret the service just made: shown now and never again. */
function NewSecret({ secret, onDone }: { secret: string; onDone: () => void }) {
  const { t } = useTranslation();
  return (
    <Alert variant="light" title={t("admin.webhooks.secretTitle")} role="status">
      <Text size="sm">{t("admin.webhooks.secretOnce")}</Text>
      <Group mt="xs">
        <Code data-testid="webhook-secret">{secret}</Code>
        <CopyButton value={secret}>
          {({ copied, copy }) => (
            <Button size="xs" variant="default" onClick={copy}>
              {copied ? t("admin.webhooks.copied") : t("admin.webhooks.copy")}
            </Button>
          )}
        </CopyButton>
        <Button size="xs" variant="subtle" onClick={onDone}>
          {t("admin.webhooks.hideSecret")}
        </Button>
      </Group>
    </Alert>
  );
}

function CreateForm({ onSecret }: { onSecret: (secret: string) => void }) {
  const { t } = useTranslation();
  const [url, setUrl] = useState("");
  const [eventTypes, setEventTypes] = useState<string[]>(["TicketCreated"]);
  const [condition, setCondition] = useState("");
  const [description, setDescription] = useState("");
  const create = useSaving(
    async (body: AdminSchemas["WebhookIn"]) => unwrap(await adminApi.POST("/webhooks", { body })),
    [WEBHOOKS],
  );
  const submit = () => {
    create.mutate(
      {
        url,
        event_types: eventTypes,
        condition: condition.trim() || null,
        description: description.trim() || null,
      },
      {
        onSuccess: (made) => {
          onSecret(made.secret);
          setUrl("");
          setCondition("");
          setDescription("");
        },
      },
    );
  };
  return (
    <FormCard title={t("admin.webhooks.add")} onSubmit={submit}>
      <Stack gap="xs">
        <Group align="end" grow>
          <TextInput
            label={t("admin.webhooks.url")}
            type="url"
            required
            placeholder="https://example.com/hooks/helpdesk"
            value={url}
            onChange={(e) => setUrl(e.currentTarget.value)}
          />
          <TextInput
            label={t("admin.webhooks.description")}
            maxLength={500}
            value={description}
            onChange={(e) => setDescription(e.currentTarget.value)}
          />
        </Group>
        <TagsInput
          label={t("admin.webhooks.eventTypes")}
          description={t("admin.webhooks.eventTypesHint")}
          data={EVENT_TYPES}
          value={eventTypes}
          onChange={setEventTypes}
          required
        />
        <TextInput
          label={t("admin.webhooks.condition")}
          description={t("admin.webhooks.conditionHint")}
          maxLength={4000}
          value={condition}
          onChange={(e) => setCondition(e.currentTarget.value)}
        />
        <Group>
          <Button type="submit" loading={create.isPending} disabled={eventTypes.length === 0}>
            {t("admin.webhooks.submit")}
          </Button>
        </Group>
      </Stack>
      <SaveResult error={create.error} done={false} />
    </FormCard>
  );
}

function Deliveries({ webhook }: { webhook: Webhook }) {
  const { t, i18n } = useTranslation();
  const key = ["webhooks", webhook.id, "deliveries"];
  const deliveries = useQuery({
    queryKey: key,
    queryFn: async (): Promise<Delivery[]> =>
      unwrap(
        await adminApi.GET("/webhooks/{webhook_id}/deliveries", {
          params: { path: { webhook_id: webhook.id }, query: { limit: 20 } },
        }),
      ),
    refetchInterval: 5000,
  });
  const redeliver = useSaving(
    async (deliveryId: string) =>
      unwrap(
        await adminApi.POST("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", {
          params: { path: { webhook_id: webhook.id, delivery_id: deliveryId } },
        }),
      ),
    [key],
  );
  const time = (at: string | null) =>
    at
      ? new Date(at).toLocaleString(i18n.language, { dateStyle: "short", timeStyle: "short" })
      : "—";
  return (
    <Stack gap="xs">
      <Title order={4} size="h5">
        {t("admin.webhooks.deliveriesOf", { url: webhook.url })}
      </Title>
      <ItemsTable
        rows={deliveries.data ?? []}
        rowKey={(d) => d.id}
        testId="delivery-row"
        columns={[
          { heading: t("admin.webhooks.event"), cell: (d) => d.event_type },
          {
            heading: t("admin.webhooks.status"),
            cell: (d) => t(`admin.webhooks.states.${d.status}`, { defaultValue: d.status }),
          },
          { heading: t("admin.webhooks.attempts"), cell: (d) => d.attempts },
          {
            heading: t("admin.webhooks.lastAnswer"),
            cell: (d) => d.last_status ?? d.last_error ?? "—",
          },
          { heading: t("admin.webhooks.created"), cell: (d) => time(d.created_at) },
          {
            heading: t("admin.webhooks.redeliver"),
            cell: (d) => (
              <Button
                size="xs"
                variant="default"
                aria-label={t("admin.webhooks.redeliverEvent", { event: d.event_type })}
                loading={redeliver.isPending && redeliver.variables === d.id}
                onClick={() => redeliver.mutate(d.id)}
              >
                {t("admin.webhooks.redeliver")}
              </Button>
            ),
          },
        ]}
        empty={t("admin.webhooks.noDeliveries")}
        minWidth={640}
      />
      <SaveResult error={deliveries.error ?? redeliver.error} done={redeliver.isSuccess} />
    </Stack>
  );
}

function WebhookCard({ webhook, onSecret }: { webhook: Webhook; onSecret: (s: string) => void }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const rotate = useSaving(
    async () =>
      unwrap(
        await adminApi.POST("/webhooks/{webhook_id}/rotate-secret", {
          params: { path: { webhook_id: webhook.id } },
        }),
      ),
    [WEBHOOKS],
  );
  const remove = useSaving(
    async () =>
      noContent(
        await adminApi.DELETE("/webhooks/{webhook_id}", {
          params: { path: { webhook_id: webhook.id } },
        }),
      ),
    [WEBHOOKS],
  );
  return (
    <Paper withBorder p="md" data-testid="webhook-card">
      <Stack gap="xs">
        <Group justify="space-between" align="start">
          <Stack gap={2}>
            <Title order={3} size="h5">
              {webhook.url}
            </Title>
            {webhook.description && <Text size="sm">{webhook.description}</Text>}
            <Group gap={4}>
              {webhook.event_types.map((type) => (
                <Badge key={type} variant="light" color="gray" tt="none">
                  {type === "*" ? t("admin.webhooks.everyEvent") : type}
                </Badge>
              ))}
            </Group>
            {webhook.condition && (
              <Text size="sm">
                {t("admin.webhooks.condition")}: <Code>{webhook.condition}</Code>
              </Text>
            )}
            <Text size="sm">
              {webhook.enabled
                ? t("admin.webhooks.enabled")
                : t("admin.webhooks.disabled", { reason: webhook.disabled_reason ?? "" })}
            </Text>
          </Stack>
          <Group gap="xs">
            <Button
              size="xs"
              variant="default"
              aria-expanded={open}
              onClick={() => setOpen((o) => !o)}
            >
              {open ? t("admin.webhooks.hideDeliveries") : t("admin.webhooks.showDeliveries")}
            </Button>
            <Button
              size="xs"
              variant="default"
              loading={rotate.isPending}
              onClick={() => rotate.mutate(undefined, { onSuccess: (w) => onSecret(w.secret) })}
            >
              {t("admin.webhooks.rotate")}
            </Button>
            <Button
              size="xs"
              color="red"
              variant="light"
              loading={remove.isPending}
              aria-label={t("admin.webhooks.deleteUrl", { url: webhook.url })}
              onClick={() => remove.mutate(undefined)}
            >
              {t("admin.webhooks.delete")}
            </Button>
          </Group>
        </Group>
        <SaveResult error={rotate.error ?? remove.error} done={false} />
        {open && <Deliveries webhook={webhook} />}
      </Stack>
    </Paper>
  );
}

export default function WebhooksAdmin() {
  const { t } = useTranslation();
  const webhooks = useWebhooks();
  const [secret, setSecret] = useState<string | null>(null);
  return (
    <Stack>
      <CreateForm onSecret={setSecret} />
      {secret && <NewSecret secret={secret} onDone={() => setSecret(null)} />}
      <Title order={3} size="h4">
        {t("admin.webhooks.list")}
      </Title>
      {webhooks.error && <SaveResult error={webhooks.error} done={false} />}
      {webhooks.data?.length === 0 && <Text size="sm">{t("admin.webhooks.none")}</Text>}
      {(webhooks.data ?? []).map((webhook) => (
        <WebhookCard key={webhook.id} webhook={webhook} onSecret={setSecret} />
      ))}
    </Stack>
  );
}
