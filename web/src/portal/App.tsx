import { Box, Center, Container, Loader } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useEffect } from "react";
import { useTranslation } from "react-i18next";
import { Route, Switch, useLocation, useSearch } from "wouter";
import { session } from "../shared/auth/session";
import { useSession } from "../shared/auth/useSession";
import { Header } from "./Header";
import { NAMESPACE } from "./texts";
import { TicketList } from "./TicketList";

const TicketPage = lazy(() => import("./TicketPage"));
const NewTicket = lazy(() => import("./NewTicket"));
// Its own chunk: a returning customer (refresh cookie) never needs it.
const SignIn = lazy(() => import("./SignIn"));

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
  const [path] = useLocation();
  const search = useSearch();
  const redeeming = path === "/sign-in" && search.includes("token=");

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
            <Suspense fallback={<Loading />}>
              <SignIn expired={state.status === "signed-out" && state.reason === "expired"} />
            </Suspense>
          ) : (
            <Suspense fallback={<Loading />}>
              <Switch>
                <Route path="/new">
                  <NewTicket />
                </Route>
                <Route path="/tickets/:ticketId">
                  <TicketPage />
                </Route>
                <Route>
                  <TicketList />
                </Route>
              </Switch>
            </Suspense>
          )}
        </Container>
      </Box>
    </>
  );
}
