/**
 * The portal's header: the helpdesk's branding (name, logo, accent colour, favicon — read
 * without a token, so the sign-in page shows it too), language and time zone, sign-out.
 */
import { Anchor, Box, Button, Group, Image, NativeSelect, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { Link } from "wouter";
import { session } from "../shared/auth/session";
import { LANGUAGES } from "../shared/i18n/i18n";
import { setTimeZone, timeZones, useTimeZone } from "../shared/i18n/timezone";
import { brandingUrl, textOn, useBranding } from "../shared/branding";
import { NAMESPACE } from "./texts";

export function Header({ signedIn }: { signedIn: boolean }) {
  const { t, i18n } = useTranslation(NAMESPACE);
  const branding = useBranding();
  const zone = useTimeZone();
  const accent = branding?.accent_color ?? "#1c7ed6";
  const foreground = textOn(accent);
  const logo = brandingUrl(branding?.logo_url);
  return (
    <Box component="header" bg={accent} c={foreground} px="md" py="xs">
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Anchor component={Link} to="/" c={foreground} underline="never" data-testid="brand">
          <Group gap="xs" wrap="nowrap">
            {logo && <Image src={logo} alt="" h={32} w="auto" fit="contain" />}
            <Text fw={700} size="lg" c={foreground}>
              {branding?.helpdesk_name ?? "Helpdesk"}
            </Text>
          </Group>
        </Anchor>
        <Group gap="xs" wrap="wrap">
          <NativeSelect
            aria-label={t("language")}
            size="xs"
            value={i18n.language}
            onChange={(event) => void i18n.changeLanguage(event.currentTarget.value)}
            data={LANGUAGES.map((language) => ({ value: language.code, label: language.label }))}
          />
          <NativeSelect
            aria-label={t("timeZone")}
            size="xs"
            maw={170}
            value={zone}
            onChange={(event) => setTimeZone(event.currentTarget.value)}
            data={timeZones()}
          />
          {signedIn && (
            <Button size="xs" variant="white" color="dark" onClick={() => void session.signOut()}>
              {t("signOut")}
            </Button>
          )}
        </Group>
      </Group>
    </Box>
  );
}
