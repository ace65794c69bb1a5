import { Alert, Anchor, Button, PasswordInput, Text } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { session, SignInError } from "../shared/auth/session";
import { AuthCard, EmailField, FormError } from "./AuthCard";
import { AGENT_NS } from "./i18n/register";

/** The sign-in form, and the "forgot your password?" form that mails a reset link. */
export function SignIn({ expired }: { expired: boolean }) {
  const [forgot, setForgot] = useState(false);
  return forgot ? (
    <ForgotPassword onBack={() => setForgot(false)} />
  ) : (
    <SignInForm expired={expired} onForgot={() => setForgot(true)} />
  );
}

function SignInForm({ expired, onForgot }: { expired: boolean; onForgot: () => void }) {
  const { t } = useTranslation();
  const { t: ta } = useTranslation(AGENT_NS);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit() {
    setBusy(true);
    setError(null);
    try {
      await session.signIn(email.trim(), password);
    } catch (caught) {
      if (caught instanceof SignInError && (caught.status === 401 || caught.status === 403)) {
        setError(t("signIn.wrong"));
      } else if (caught instanceof SignInError && caught.status === 429) {
        setError(t("signIn.tooMany"));
      } else {
        setError(t("signIn.unavailable"));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthCard id="sign-in-title" title={t("signIn.title")} onSubmit={submit}>
      {expired && (
        <Alert color="yellow" role="status">
          {t("signIn.expired")}
        </Alert>
      )}
      <FormError message={error} />
      <EmailField label={t("signIn.email")} value={email} onChange={setEmail} />
      <PasswordInput
        label={t("signIn.password")}
        autoComplete="current-password"
        required
        value={password}
        onChange={(event) => setPassword(event.currentTarget.value)}
      />
      <Button type="submit" loading={busy}>
        {t("signIn.submit")}
      </Button>
      <Anchor component="button" type="button" size="sm" onClick={onForgot}>
        {ta("password.forgot")}
      </Anchor>
    </AuthCard>
  );
}

function ForgotPassword({ onBack }: { onBack: () => void }) {
  const { t } = useTranslation();
  const { t: ta } = useTranslation(AGENT_NS);
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit() {
    setBusy(true);
    setError(null);
    try {
      await session.requestPasswordReset(email.trim());
      setSent(true);
    } catch (caught) {
      setError(
        caught instanceof SignInError && caught.status === 429
          ? ta("password.tooMany")
          : ta("password.unavailable"),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthCard id="forgot-title" title={ta("password.forgotTitle")} onSubmit={submit}>
      {sent ? (
        <Alert color="green" role="status">
          {ta("password.sent")}
        </Alert>
      ) : (
        <>
          <Text size="sm">{ta("password.forgotHelp")}</Text>
          <FormError message={error} />
          <EmailField label={t("signIn.email")} value={email} onChange={setEmail} />
          <Button type="submit" loading={busy}>
            {ta("password.send")}
          </Button>
        </>
      )}
      <Anchor component="button" type="button" size="sm" onClick={onBack}>
        {ta("password.back")}
      </Anchor>
    </AuthCard>
  );
}
