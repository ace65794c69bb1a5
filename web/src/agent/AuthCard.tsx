/** The centred card the signed-out screens share: sign-in, forgot password, set a password. */
import { Alert, Center, Paper, Stack, Text, TextInput, Title } from "@mantine/core";
import type { ReactNode, SyntheticEvent } from "react";
import { BrandMark, useAccentStrip } from "./Brand";
import { LanguageSwitch } from "./Preferences";

export function AuthCard({
  id,
  title,
  onSubmit,
  children,
}: {
  id: string;
  title: string;
  onSubmit: () => Promise<void>;
  children: ReactNode;
}) {
  function submit(event: SyntheticEvent) {
    event.preventDefault();
    void onSubmit();
  }
  const strip = useAccentStrip();
  return (
    <Center component="main" mih="100vh" bg="gray.0">
      <Paper withBorder shadow="sm" p="xl" w={400} radius="md" style={strip}>
        <form onSubmit={submit} aria-labelledby={id}>
          <Stack>
            <Text fw={700} size="lg">
              <BrandMark />
            </Text>
            <Title order={1} size="h3" id={id}>
              {title}
            </Title>
            {children}
            <LanguageSwitch />
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}

/** The form's refusal, read out by screen readers as it appears. */
export function FormError({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <Alert color="red" role="alert">
      {message}
    </Alert>
  );
}

/** The account's email address (the browser's password manager knows it as the username). */
export function EmailField({
  label,
  value,
  onChange,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <TextInput
      label={label}
      type="email"
      autoComplete="username"
      required
      value={value}
      onChange={(event) => onChange(event.currentTarget.value)}
    />
  );
}
