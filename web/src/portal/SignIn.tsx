/**
 * Passwordless sign-in: the customer asks for a link (first-time customers are registered by
 * their email when they redeem it), then opens the link (``/portal/sign-in?token=…``) or types
 * the 6-digit code from the same mail.
 */
import { Alert, Button, Paper, Stack, Text, TextInput, Title } from "@mantine/core";
import { useEffect, useRef, useState, type SyntheticEvent } from "react";
import { useTranslation } from "react-i18next";
import { useLocation, useSearch } from "wouter";
import { session, SignInError } from "../shared/auth/session";
import { NAMESPACE } from "./texts";

export default function SignIn({ expired }: { expired: boolean }) {
  const { t } = useTranslation(NAMESPACE);
  const [path, navigate] = useLocation();
  const search = useSearch();
  const [email, setEmail] = useState("");
  const [code, setCode] = useState("");
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const token = new URLSearchParams(search).get("token");
  const redeemed = useRef(false);

  function explain(caught: unknown) {
    if (caught instanceof SignInError && caught.status === 429) setError(t("signIn.tooMany"));
    else if (caught instanceof SignInError && caught.status < 500) setError(t("signIn.invalid"));
    else setError(t("error", { detail: String(caught) }));
  }

  useEffect(() => {
    if (!token || redeemed.current) return;
    redeemed.current = true; // a link works once: never send it twice (StrictMode)
    session
      .redeemCustomer({ token })
      .then(() => navigate("/", { replace: true }))
      .catch((caught: unknown) => {
        explain(caught);
        navigate("/sign-in", { replace: true });
      });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [token]);

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (caught) {
      explain(caught);
    } finally {
      setBusy(false);
    }
  }

  function requestLink(event: SyntheticEvent) {
    event.preventDefault();
    void run(async () => {
      await session.requestCustomerLink(email.trim());
      setSent(true);
    });
  }

  function signInWithCode(event: SyntheticEvent) {
    event.preventDefault();
    void run(async () => {
      await session.redeemCustomer({ email: email.trim(), code: code.trim() });
      // Stay where a mail's link led (a ticket to rate); leave only the sign-in address.
      if (path === "/sign-in") navigate("/", { replace: true });
    });
  }

  if (token && !error) {
    return (
      <Text role="status" ta="center" py="xl">
        {t("signIn.signingIn")}
      </Text>
    );
  }

  return (
    <Paper withBorder shadow="xs" p="lg" radius="md" maw={440} mx="auto">
      <Stack>
        <Title order={1} size="h3">
          {t("signIn.title")}
        </Title>
        {expired && (
          <Alert color="yellow" role="status">
            {t("signIn.expired")}
          </Alert>
        )}
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <Text size="sm">{t("signIn.intro")}</Text>
        <form onSubmit={requestLink}>
          <Stack>
            <TextInput
              label={t("signIn.email")}
              type="email"
              autoComplete="email"
              required
              value={email}
              onChange={(event) => setEmail(event.currentTarget.value)}
            />
            <Button type="submit" loading={busy && !sent}>
              {t("signIn.send")}
            </Button>
          </Stack>
        </form>
        {sent && (
          <form onSubmit={signInWithCode}>
            <Stack>
              <Alert color="green" role="status">
                {t("signIn.sent")}
              </Alert>
              <TextInput
                label={t("signIn.code")}
                inputMode="numeric"
                autoComplete="one-time-code"
                pattern="\d{6}"
                required
                value={code}
                onChange={(event) => setCode(event.currentTarget.value)}
              />
              <Button type="submit" variant="light" loading={busy}>
                {t("signIn.useCode")}
              </Button>
            </Stack>
          </form>
        )}
      </Stack>
    </Paper>
  );
}
