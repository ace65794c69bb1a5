/** My tickets, open or solved and closed, and my company's where it shares them. */
import { Button, Card, Group, Stack, Tabs, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "wouter";
import type { TicketSummary } from "../shared/api/client";
import { formatDateTime, useTimeZone } from "../shared/i18n/timezone";
import { companyShared, fetchList, keys, type Scope } from "./data";
import { StatusBadge } from "./StatusBadge";
import { NAMESPACE } from "./texts";

function Row({ ticket }: { ticket: TicketSummary }) {
  const { t, i18n } = useTranslation(NAMESPACE);
  const zone = useTimeZone();
  return (
    <Card withBorder padding="sm" component={Link} to={`/tickets/${ticket.id}`}>
      <Group justify="space-between" wrap="nowrap" align="flex-start">
        <Stack gap={2}>
          <Text fw={600}>{ticket.subject}</Text>
          <Text size="sm" c="dimmed">
            #{ticket.number} ·{" "}
            {t("list.updated", { when: formatDateTime(ticket.updated_at, i18n.language, zone) })}
          </Text>
        </Stack>
        <StatusBadge status={ticket.status} category={ticket.status_category} />
      </Group>
    </Card>
  );
}

function List({ scope }: { scope: Scope }) {
  const { t } = useTranslation(NAMESPACE);
  const list = useQuery({ queryKey: keys.list(scope), queryFn: () => fetchList(scope) });
  if (list.isPending) return <Text c="dimmed">{t("loading")}</Text>;
  if (list.isError) return <Text c="red">{t("error", { detail: list.error.message })}</Text>;
  if (list.data.length === 0) return <Text c="dimmed">{t("list.empty")}</Text>;
  return (
    <Stack gap="xs" data-testid={`list-${scope}`}>
      {list.data.map((ticket) => (
        <Row key={ticket.id} ticket={ticket} />
      ))}
    </Stack>
  );
}

export function TicketList() {
  const { t } = useTranslation(NAMESPACE);
  const [scope, setScope] = useState<Scope>("open");
  const shared = useQuery({ queryKey: ["company-shared"], queryFn: companyShared });
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">
          {t("list.title")}
        </Title>
        <Button component={Link} to="/new">
          {t("list.newTicket")}
        </Button>
      </Group>
      <Tabs value={scope} onChange={(value) => setScope((value as Scope | null) ?? "open")}>
        <Tabs.List>
          <Tabs.Tab value="open">{t("list.open")}</Tabs.Tab>
          <Tabs.Tab value="closed">{t("list.closed")}</Tabs.Tab>
          {shared.data && <Tabs.Tab value="company">{t("list.company")}</Tabs.Tab>}
        </Tabs.List>
      </Tabs>
      <List scope={scope} />
    </Stack>
  );
}
