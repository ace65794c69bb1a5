// The customer portal's entry: its own bundle (mobile first, kept small), sharing the theme,
// i18n, session and API client with the agent portal; its texts are the "portal" namespace.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { Router } from "wouter";
import { mountApp } from "../shared/providers";
import "./styles";
import { App } from "./App";
import { addPortalTexts } from "./texts";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: { retry: 1, refetchOnWindowFocus: true, staleTime: 10_000 },
  },
});

mountApp(
  <QueryClientProvider client={queryClient}>
    <Router base="/portal">
      <App />
    </Router>
  </QueryClientProvider>,
);
addPortalTexts();
