/** Branding (managers): the helpdesk's name, accent colour, logo and favicon, shown in both
 * portals and in mails; and per company whether its customers see all its tickets. */
import {
  Button,
  ColorInput,
  FileInput,
  Group,
  Image,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, authorisedFetch, unwrap, type Schemas } from "../../shared/api/client";
import { FormCard, SaveResult, useSaving } from "./common";

type Branding = Schemas["BrandingView"];
type ImageKind = "logo" | "favicon";

function useBranding() {
  return useQuery({
    queryKey: ["branding"],
    queryFn: async (): Promise<Branding> => unwrap(await api.GET("/branding")),
  });
}

async function uploadImage(kind: ImageKind, file: File): Promise<void> {
  const response = await authorisedFetch(
    new Request(`/api/branding/${kind}`, {
      method: "PUT",
      body: file,
      headers: { "Content-Type": file.type || "application/octet-stream" },
    }),
  );
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as { detail?: unknown };
    throw new Error(typeof body.detail === "string" ? body.detail : response.statusText);
  }
}

function NameAndColour({ branding }: { branding: Branding }) {
  const { t } = useTranslation();
  const [name, setName] = useState(branding.helpdesk_name);
  const [accent, setAccent] = useState(branding.accent_color);
  const save = useSaving(
    async (body: Schemas["BrandingBody"]) => unwrap(await api.PUT("/branding", { body })),
    [["branding"]],
  );
  const submit = () => save.mutate({ helpdesk_name: name, accent_color: accent });
  return (
    <FormCard onSubmit={submit}>
      <Group align="end">
        <TextInput
          label={t("admin.branding.name")}
          required
          maxLength={100}
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
        />
        <ColorInput
          label={t("admin.branding.accent")}
          format="hex"
          value={accent}
          onChange={setAccent}
          eyeDropperButtonProps={{ "aria-label": t("admin.branding.eyeDropper") }}
          w={180}
        />
        <Button type="submit" loading={save.isPending}>
          {t("admin.save")}
        </Button>
      </Group>
      <SaveResult error={save.error} done={save.isSuccess} />
    </FormCard>
  );
}

function BrandImage({ kind, url }: { kind: ImageKind; url: string | null }) {
  const { t } = useTranslation();
  const label = t(`admin.branding.${kind}`);
  const upload = useSaving((file: File) => uploadImage(kind, file), [["branding"]]);
  const remove = useSaving(
    async () => unwrap(await api.PUT("/branding", { body: { remove: [kind] } })),
    [["branding"]],
  );
  return (
    <Paper withBorder p="md">
      <Title order={3} size="h5" mb="xs">
        {label}
      </Title>
      {url ? (
        <Image
          src={`/api/${url}`}
          alt={t("admin.branding.current", { kind: label })}
          h={48}
          w="auto"
          fit="contain"
        />
      ) : (
        <Text size="sm">{t("admin.branding.noImage", { kind: label })}</Text>
      )}
      <Group align="end" mt="xs">
        <FileInput
          label={t("admin.branding.upload", { kind: label })}
          description={t("admin.branding.imageHint")}
          accept="image/png,image/jpeg,image/svg+xml,image/x-icon,image/vnd.microsoft.icon"
          onChange={(file) => file && upload.mutate(file)}
          clearable={false}
          w={260}
        />
        {url && (
          <Button
            variant="default"
            onClick={() => remove.mutate(undefined)}
            loading={remove.isPending}
          >
            {t("admin.remove")} {label}
          </Button>
        )}
      </Group>
      <SaveResult
        error={upload.error ?? remove.error}
        done={upload.isSuccess || remove.isSuccess}
      />
    </Paper>
  );
}

function CompanySharing() {
  const { t } = useTranslation();
  const [search, setSearch] = useState("");
  const [companyId, setCompanyId] = useState<string | null>(null);
  const companies = useQuery({
    queryKey: ["companies", search],
    queryFn: async () =>
      unwrap(
        await api.GET("/companies", {
          params: { query: { q: search || undefined, page_size: 50 } },
        }),
      ).items,
  });
  const sharing = useQuery({
    queryKey: ["portal-sharing", companyId],
    enabled: companyId !== null,
    queryFn: async () =>
      unwrap(
        await api.GET("/companies/{company_id}/portal-sharing", {
          params: { path: { company_id: companyId ?? "" } },
        }),
      ),
  });
  const save = useSaving(
    async (on: boolean) =>
      unwrap(
        await api.PUT("/companies/{company_id}/portal-sharing", {
          params: { path: { company_id: companyId ?? "" } },
          body: { customers_see_company_tickets: on },
        }),
      ),
    [],
  );
  const queryClient = useQueryClient();
  return (
    <Paper withBorder p="md">
      <Title order={3} size="h4" mb="sm">
        {t("admin.branding.sharing")}
      </Title>
      <Stack gap="sm">
        <Select
          label={t("admin.branding.company")}
          placeholder={t("admin.branding.companySearch")}
          searchable
          searchValue={search}
          onSearchChange={setSearch}
          data={(companies.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
          value={companyId}
          onChange={setCompanyId}
          filter={({ options }) => options}
          w={320}
        />
        {companyId && sharing.data && (
          <Switch
            label={t("admin.branding.shares")}
            checked={sharing.data.customers_see_company_tickets}
            disabled={save.isPending}
            onChange={(e) =>
              save.mutate(e.currentTarget.checked, {
                // The API's answer is the setting as saved (a reread could lag behind).
                onSuccess: (saved) =>
                  queryClient.setQueryData(["portal-sharing", companyId], saved),
              })
            }
          />
        )}
        <SaveResult error={save.error} done={save.isSuccess} />
      </Stack>
    </Paper>
  );
}

export default function BrandingAdmin() {
  const branding = useBranding();
  if (!branding.data) return null;
  return (
    <Stack>
      <NameAndColour key={branding.data.version} branding={branding.data} />
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <BrandImage kind="logo" url={branding.data.logo_url} />
        <BrandImage kind="favicon" url={branding.data.favicon_url} />
      </SimpleGrid>
      <CompanySharing />
    </Stack>
  );
}
