import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { BrowserRouter } from "react-router";
import { mount } from "../shared/mount";
import { App } from "./App";
import { prefetchOnSignIn } from "./firstScreen";
import { registerAgentTexts } from "./i18n/register";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: { retry: 1, refetchOnWindowFocus: true, staleTime: 10_000 },
  },
});

prefetchOnSignIn(queryClient); // before the app subscribes: requests first, render second
mount(
  <QueryClientProvider client={queryClient}>
    <BrowserRouter basename="/agent">
      <App />
    </BrowserRouter>
  </QueryClientProvider>,
);
registerAgentTexts(); // after mount()'s i18n init, before the first render
