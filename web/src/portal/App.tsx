import { Box, Center, Container, Loader } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useEffect } from "react";
import { useTranslation } from "react-i18next";
import { Route, Routes, useLocation } from "react-router";
import { session } from "../shared/auth/session";
import { useSession } from "../shared/auth/useSession";
import { Header } from "./Header";
import { SignIn } from "./SignIn";
import { NAMESPACE } from "./texts";
import { TicketList } from "./TicketList";

const TicketPage = lazy(() => import("./TicketPage"));
const NewTicket = lazy(() => import("./NewTicket"));

export function Loading() {
  const { t } = useTranslation(NAMESPACE);
  return (
    <Center h="40vh">
      <Loader aria-label={t("loading")} />
    </Center>
  );
}

export function App() {
  const state = useSession();
  const queryClient = useQueryClient();
  const location = useLocation();
  const redeeming = location.pathname === "/sign-in" && location.search.includes("token=");

  useEffect(() => {
    // A refresh cookie from an earlier visit signs the customer in without a new link.
    if (session.current.status === "unknown" && !redeeming) void session.refresh();
  }, [redeeming]);

  useEffect(() => {
    if (state.status === "signed-out") queryClient.clear();
  }, [state.status, queryClient]);

  const signedIn = state.status === "signed-in";
  return (
    <>
      <Header signedIn={signedIn} />
      <Box component="main" id="content" py="md">
        <Container size="sm" px="sm">
          {state.status === "unknown" && !redeeming ? (
            <Loading />
          ) : !signedIn ? (
            <SignIn expired={state.status === "signed-out" && state.reason === "expired"} />
          ) : (
            <Suspense fallback={<Loading />}>
              <Routes>
                <Route path="/new" element={<NewTicket />} />
                <Route path="/tickets/:ticketId" element={<TicketPage />} />
                <Route path="*" element={<TicketList />} />
              </Routes>
            </Suspense>
          )}
        </Container>
      </Box>
    </>
  );
}
