import {
  Alert,
  Button,
  Group,
  Modal,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  TagsInput,
  Textarea,
  TextInput,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState, type SyntheticEvent } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { api, ApiError, newIdempotencyKey, unwrap, type Schemas } from "../shared/api/client";
import { useAgentChoices, useOptionChoices, useTeams, useTicketOptions } from "./data";

const CHANNELS = ["email", "phone", "portal", "WhatsApp", "chat"] as const;

/**
 * Create a ticket for an existing customer (searched by name, email or phone) or a new one
 * (name, email, phone, tags) in the same dialog, with the fields of seed 003 in its order.
 */
export default function CreateTicketDialog({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const options = useTicketOptions();
  const teams = useTeams();
  // One key per dialog: a retry after a network error never opens a second ticket.
  const idempotencyKey = useRef(newIdempotencyKey());

  const [mode, setMode] = useState<"existing" | "new">("existing");
  const [customerSearch, setCustomerSearch] = useState("");
  const [debouncedSearch] = useDebouncedValue(customerSearch, 250);
  const [customerId, setCustomerId] = useState<string | null>(null);
  const [newCustomer, setNewCustomer] = useState({
    name: "",
    email: "",
    phone: "",
    tags: [] as string[],
  });
  const [createdCustomerId, setCreatedCustomerId] = useState<string | null>(null);
  const [subject, setSubject] = useState("");
  const [category, setCategory] = useState<string | null>(null);
  const [priority, setPriority] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [channel, setChannel] = useState<string | null>("phone");
  const [businessUnit, setBusinessUnit] = useState<string | null>(null);
  const [brand, setBrand] = useState<string | null>(null);
  const [teamId, setTeamId] = useState<string | null>(null);
  const [assigneeId, setAssigneeId] = useState<string | null>(null);
  const [description, setDescription] = useState("");
  const [tags, setTags] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const customers = useQuery({
    queryKey: ["customers", "search", debouncedSearch],
    queryFn: async () =>
      unwrap(
        await api.GET("/customers", {
          params: { query: { q: debouncedSearch || undefined, page_size: 20 } },
        }),
      ).items,
    enabled: mode === "existing",
  });

  const opts = options.data;
  const units = opts?.business_units ?? [];
  const brands = units.find((unit) => unit.name === businessUnit)?.brands ?? [];
  const agentChoices = useAgentChoices(teamId);
  const choices = useOptionChoices();

  async function customerForTicket(): Promise<string> {
    if (mode === "existing") {
      if (!customerId) throw new ApiError(422, t("create.pickCustomer"));
      return customerId;
    }
    if (createdCustomerId) return createdCustomerId;
    const body: Schemas["CreateCustomerBody"] = {
      name: newCustomer.name.trim(),
      tags: newCustomer.tags,
      ...(newCustomer.email.trim() ? { email: newCustomer.email.trim() } : {}),
      ...(newCustomer.phone.trim() ? { phone: newCustomer.phone.trim() } : {}),
    };
    const result = await api.POST("/customers", { body });
    if (result.response.status === 409) throw new ApiError(409, t("create.duplicateCustomer"));
    const created = unwrap(result);
    setCreatedCustomerId(created.id);
    return created.id;
  }

  async function submit(event: SyntheticEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const customer = await customerForTicket();
      const body: Schemas["CreateTicketBody"] = {
        subject: subject.trim(),
        description,
        channel: channel ?? "phone",
        customer_id: customer,
        tags,
        category,
        priority,
        status,
        business_unit: businessUnit,
        brand,
        team_id: teamId,
        assignee_id: assigneeId,
      };
      const ticket = unwrap(
        await api.POST("/tickets", {
          params: { header: { "idempotency-key": idempotencyKey.current } },
          body,
        }),
      );
      void queryClient.invalidateQueries({ queryKey: ["tickets"] });
      onClose();
      void navigate(`/tickets/${ticket.id}`);
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      opened
      onClose={onClose}
      title={t("create.title")}
      size="lg"
      closeButtonProps={{ "aria-label": t("common.close") }}
    >
      <form onSubmit={(event) => void submit(event)}>
        <Stack gap="sm">
          <SegmentedControl
            aria-label={t("create.customerMode")}
            value={mode}
            onChange={(value) => setMode(value === "new" ? "new" : "existing")}
            data={[
              { value: "existing", label: t("create.existing") },
              { value: "new", label: t("create.new") },
            ]}
          />
          {mode === "existing" ? (
            <Select
              label={t("create.customer")}
              placeholder={t("create.customerHint")}
              searchable
              required
              searchValue={customerSearch}
              onSearchChange={setCustomerSearch}
              filter={({ options: items }) => items}
              data={(customers.data ?? []).map((customer) => ({
                value: customer.id,
                label: customer.email ? `${customer.name} <${customer.email}>` : customer.name,
              }))}
              value={customerId}
              onChange={setCustomerId}
              nothingFoundMessage={t("create.noCustomer")}
            />
          ) : (
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <TextInput
                label={t("customer.name")}
                required
                value={newCustomer.name}
                onChange={(event) => {
                  const name = event.currentTarget.value;
                  setNewCustomer((previous) => ({ ...previous, name }));
                }}
              />
              <TextInput
                label={t("customer.email")}
                type="email"
                value={newCustomer.email}
                onChange={(event) => {
                  const email = event.currentTarget.value;
                  setNewCustomer((previous) => ({ ...previous, email }));
                }}
              />
              <TextInput
                label={t("customer.phone")}
                type="tel"
                value={newCustomer.phone}
                onChange={(event) => {
                  const phone = event.currentTarget.value;
                  setNewCustomer((previous) => ({ ...previous, phone }));
                }}
              />
              <TagsInput
                label={t("customer.tags")}
                value={newCustomer.tags}
                onChange={(value) => setNewCustomer((previous) => ({ ...previous, tags: value }))}
              />
            </SimpleGrid>
          )}
          <TextInput
            label={t("fields.subject")}
            required
            value={subject}
            onChange={(event) => setSubject(event.currentTarget.value)}
          />
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            <Select
              label={t("fields.category")}
              data={opts?.categories ?? []}
              value={category}
              onChange={setCategory}
              clearable
            />
            <Select
              label={t("fields.priority")}
              data={choices.priorities}
              value={priority}
              onChange={setPriority}
              clearable
            />
            <Select
              label={t("fields.status")}
              data={choices.statuses}
              value={status}
              onChange={setStatus}
              clearable
            />
            <Select
              label={t("fields.channel")}
              data={[...CHANNELS]}
              value={channel}
              onChange={setChannel}
              allowDeselect={false}
            />
            <Select
              label={t("fields.business_unit")}
              data={units.map((unit) => unit.name)}
              value={businessUnit}
              onChange={(value) => {
                setBusinessUnit(value);
                setBrand(null);
              }}
              clearable
            />
            <Select
              label={t("fields.brand")}
              data={brands}
              value={brand}
              onChange={setBrand}
              disabled={!businessUnit}
              clearable
            />
          </SimpleGrid>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Select
              label={t("fields.team_id")}
              data={(teams.data ?? []).map((item) => ({ value: item.id, label: item.name }))}
              value={teamId}
              onChange={(value) => {
                setTeamId(value);
                setAssigneeId(null);
              }}
              clearable
              searchable
            />
            <Select
              label={t("fields.assignee_id")}
              data={agentChoices}
              value={assigneeId}
              onChange={setAssigneeId}
              clearable
              searchable
            />
          </SimpleGrid>
          <Textarea
            label={t("fields.description")}
            autosize
            minRows={3}
            value={description}
            onChange={(event) => setDescription(event.currentTarget.value)}
          />
          <TagsInput label={t("fields.tags")} value={tags} onChange={setTags} />
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {t("common.cancel")}
            </Button>
            <Button type="submit" loading={busy}>
              {t("create.submit")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
