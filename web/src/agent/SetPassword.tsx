/**
 * The pages the gateway's mails link to: /agent/accept-invitation?token=… (a new agent chooses
 * a password) and /agent/reset-password?token=… (a new one after "forgot your password?").
 * Saving signs the person in (the gateway answers with a token and the refresh cookie), then
 * the ticket list opens. The token is sent once; a used or expired link says so.
 */
import { Button, PasswordInput, Text } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useSearchParams } from "react-router";
import { session, SignInError } from "../shared/auth/session";
import { AuthCard, FormError } from "./AuthCard";
import { AGENT_NS } from "./i18n/register";

const MIN_PASSWORD_LENGTH = 12; // the gateway's rule (api_gateway.domain.credentials)

export type LinkKind = "invitation" | "reset";

export default function SetPassword({ link }: { link: LinkKind }) {
  const { t } = useTranslation(AGENT_NS);
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const token = params.get("token") ?? "";
  const [password, setPassword] = useState("");
  const [repeated, setRepeated] = useState("");
  const [error, setError] = useState<string | null>(token ? null : t("password.noToken"));
  const [busy, setBusy] = useState(false);

  async function submit() {
    if (password.length < MIN_PASSWORD_LENGTH) return setError(t("password.tooShort"));
    if (password !== repeated) return setError(t("password.mismatch"));
    setBusy(true);
    setError(null);
    try {
      await session.setPassword(link, token, password);
      void navigate("/", { replace: true });
    } catch (caught) {
      const status = caught instanceof SignInError ? caught.status : 0;
      if (status === 400 || status === 401) setError(t("password.badLink"));
      else if (status === 422 && caught instanceof Error) setError(caught.message);
      else if (status === 429) setError(t("password.tooMany"));
      else setError(t("password.unavailable"));
    } finally {
      setBusy(false);
    }
  }

  const invitation = link === "invitation";
  return (
    <AuthCard
      id="set-password-title"
      title={t(invitation ? "password.inviteTitle" : "password.resetTitle")}
      onSubmit={submit}
    >
      <Text size="sm">{t(invitation ? "password.inviteHelp" : "password.resetHelp")}</Text>
      <FormError message={error} />
      <PasswordInput
        label={t("password.newPassword")}
        description={t("password.rules")}
        autoComplete="new-password"
        required
        disabled={!token}
        value={password}
        onChange={(event) => setPassword(event.currentTarget.value)}
      />
      <PasswordInput
        label={t("password.confirm")}
        autoComplete="new-password"
        required
        disabled={!token}
        value={repeated}
        onChange={(event) => setRepeated(event.currentTarget.value)}
      />
      <Button type="submit" loading={busy} disabled={!token}>
        {t("password.save")}
      </Button>
    </AuthCard>
  );
}
