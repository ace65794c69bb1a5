import { Center, Loader } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useEffect } from "react";
import { useTranslation } from "react-i18next";
import { Route, Routes } from "react-router";
import { session, type SessionState } from "../shared/auth/session";
import { brandingKey } from "../shared/branding";
import { useSession } from "../shared/auth/useSession";
import type { LinkKind } from "./SetPassword";
import { Shell } from "./Shell";
import { SignIn } from "./SignIn";
import { TicketList } from "./TicketList";

const TicketPage = lazy(() => import("./TicketPage"));
const SetPassword = lazy(() => import("./SetPassword"));
const AdminArea = lazy(() => import("./admin/AdminArea"));

function Loading() {
  const { t } = useTranslation();
  return (
    <Center h="50vh">
      <Loader aria-label={t("common.loading")} />
    </Center>
  );
}

/** The pages the gateway's mails link to: shown whether or not someone is signed in. */
function LinkPage({ link }: { link: LinkKind }) {
  return (
    <Suspense fallback={<Loading />}>
      <SetPassword link={link} />
    </Suspense>
  );
}

function Portal({ state }: { state: SessionState }) {
  if (state.status === "unknown") return <Loading />;
  if (state.status === "signed-out") return <SignIn expired={state.reason === "expired"} />;
  return (
    <Shell identity={state.identity}>
      <Suspense fallback={<Loading />}>
        <Routes>
          <Route path="/" element={<TicketList />} />
          <Route path="/tickets/:ticketId" element={<TicketPage />} />
          {state.identity.role === "manager" && <Route path="/admin/*" element={<AdminArea />} />}
          <Route path="*" element={<TicketList />} />
        </Routes>
      </Suspense>
    </Shell>
  );
}

/**
 * The app reads no location itself: a filter or view change renders the list and the
 * navigation, not the whole shell (header, menus) around them.
 */
export function App() {
  const state = useSession();
  const queryClient = useQueryClient();

  useEffect(() => {
    // A refresh cookie from an earlier visit signs the agent in without the form.
    if (session.current.status === "unknown") void session.refresh();
  }, []);

  useEffect(() => {
    // Another person's data must not survive a sign-out in the cache (the branding is
    // everyone's: the sign-in card shows it).
    if (state.status === "signed-out") {
      queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== brandingKey[0] });
    }
  }, [state.status, queryClient]);

  return (
    <Routes>
      <Route path="/accept-invitation" element={<LinkPage link="invitation" />} />
      <Route path="/reset-password" element={<LinkPage link="reset" />} />
      <Route path="*" element={<Portal state={state} />} />
    </Routes>
  );
}
