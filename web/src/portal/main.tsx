// The customer portal's entry (its screens come with the customer-portal issue): it already
// shares the theme, i18n and API client with the agent portal.
import { Center, Paper, Stack, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { mount } from "../shared/mount";

function Placeholder() {
  const { t } = useTranslation();
  return (
    <Center component="main" mih="100vh">
      <Paper withBorder p="xl" maw={480}>
        <Stack>
          <Title order={1} size="h3">
            {t("portal.title")}
          </Title>
          <Text>{t("portal.soon")}</Text>
        </Stack>
      </Paper>
    </Center>
  );
}

mount(<Placeholder />);
