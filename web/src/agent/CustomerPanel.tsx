import { Anchor, Badge, Group, List, Paper, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api, unwrap, type Customer, type Ticket } from "../shared/api/client";

export function useCustomer(customerId: string | null) {
  return useQuery({
    queryKey: ["customer", customerId],
    queryFn: async (): Promise<Customer> =>
      unwrap(
        await api.GET("/customers/{customer_id}", {
          params: { path: { customer_id: customerId ?? "" } },
        }),
      ),
    enabled: customerId !== null,
    staleTime: 60_000,
  });
}

/** The requester: contact details, company, tags, and their other tickets. */
export function CustomerPanel({ ticket }: { ticket: Ticket }) {
  const { t } = useTranslation();
  const customer = useCustomer(ticket.customer_id);
  const others = useQuery({
    queryKey: ["tickets", { customer_id: ticket.customer_id, view: "all", page_size: 6 }],
    queryFn: async () =>
      unwrap(
        await api.GET("/tickets", {
          params: {
            query: { customer_id: ticket.customer_id ?? undefined, view: "all", page_size: 6 },
          },
        }),
      ),
    enabled: ticket.customer_id !== null,
  });
  const person = customer.data;
  const otherTickets = (others.data?.items ?? []).filter((item) => item.id !== ticket.id);
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="customer-title">
      <Stack gap={4}>
        <Title order={3} size="h4" id="customer-title">
          {t("customer.title")}
        </Title>
        <Text fw={600}>
          {person?.name ?? ticket.requester_name ?? ticket.requester_email ?? "—"}
        </Text>
        {(person?.email ?? ticket.requester_email) && (
          <Text size="sm">{person?.email ?? ticket.requester_email}</Text>
        )}
        {person?.phone && <Text size="sm">{person.phone}</Text>}
        {person?.company_name && (
          <Text size="sm">
            {t("customer.company")}: {person.company_name}
          </Text>
        )}
        {person && person.tags.length > 0 && (
          <Group gap={4}>
            {person.tags.map((tag) => (
              <Badge key={tag} size="xs" variant="outline" color="gray.8">
                {tag}
              </Badge>
            ))}
          </Group>
        )}
        {otherTickets.length > 0 && (
          <>
            <Text size="sm" fw={600} mt="xs">
              {t("customer.otherTickets")}
            </Text>
            <List size="sm" listStyleType="none">
              {otherTickets.map((item) => (
                <List.Item key={item.id}>
                  <Anchor component={Link} to={`/tickets/${item.id}`} size="sm">
                    #{item.number} {item.subject}
                  </Anchor>
                </List.Item>
              ))}
            </List>
          </>
        )}
      </Stack>
    </Paper>
  );
}
