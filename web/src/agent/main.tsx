import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { BrowserRouter } from "react-router";
import { mount } from "../shared/mount";
import { App } from "./App";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: { retry: 1, refetchOnWindowFocus: true, staleTime: 10_000 },
  },
});

mount(
  <QueryClientProvider client={queryClient}>
    <BrowserRouter basename="/agent">
      <App />
    </BrowserRouter>
  </QueryClientProvider>,
);
