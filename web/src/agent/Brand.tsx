/**
 * The helpdesk's branding in the agent portal's shell and on its signed-out screens: logo and
 * name (shared/branding.ts, as the customer portal shows them), the accent colour as the
 * header's top strip, the favicon and the page title.
 */
import { Group, Image, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { brandingUrl, useBranding } from "../shared/branding";

/** The header's strip in the accent colour (Mantine's primary until the branding loads). */
export function useAccentStrip() {
  const branding = useBranding();
  return {
    borderTop: `4px solid ${branding?.accent_color ?? "var(--mantine-primary-color-filled)"}`,
  };
}

export function BrandMark() {
  const { t } = useTranslation();
  const branding = useBranding();
  const logo = brandingUrl(branding?.logo_url);
  return (
    <Group gap="xs" wrap="nowrap" component="span" data-testid="brand">
      {logo && <Image src={logo} alt="" h={28} w="auto" fit="contain" />}
      <Text component="span" inherit>
        {branding?.helpdesk_name ?? t("app.title")}
      </Text>
    </Group>
  );
}
