/**
 * The admin area of the agent portal, for managers: agents, teams, branding, ticket options,
 * email accounts, SLA policies, calendars and holiday lists, assignment rules, team routing, reports (the breaching-soon list too)
 * and webhooks. Loaded as its own chunk (charts included) when a manager opens it, so an
 * agent's first screen carries none of it. The API enforces the roles; this only hides the screens.
 */
import { Button, Center, Group, Loader, Stack, Title } from "@mantine/core";
import { lazy, Suspense } from "react";
import { useTranslation } from "react-i18next";
import { Link, Navigate, Route, Routes, useLocation } from "react-router";
import { registerAdminTexts } from "./texts";

registerAdminTexts();

const AgentsAdmin = lazy(() => import("./AgentsAdmin"));
const TeamsAdmin = lazy(() => import("./TeamsAdmin"));
const BrandingAdmin = lazy(() => import("./BrandingAdmin"));
const ReportsAdmin = lazy(() => import("./ReportsAdmin"));
const OptionsAdmin = lazy(() => import("./OptionsAdmin"));
const WebhooksAdmin = lazy(() => import("./WebhooksAdmin"));
const EmailAdmin = lazy(() => import("./EmailAdmin"));
const SlaAdmin = lazy(() => import("./SlaAdmin"));
const AssignmentAdmin = lazy(() => import("./AssignmentAdmin"));
const RoutingAdmin = lazy(() => import("./RoutingAdmin"));
const CalendarsAdmin = lazy(() => import("./CalendarsAdmin"));
const BreachingSoon = lazy(() => import("./BreachingSoon"));

const SECTIONS = [
  "agents",
  "teams",
  "branding",
  "options",
  "mail",
  "sla",
  "calendars",
  "assignment",
  "routing",
  "reports",
  "breaching",
  "webhooks",
] as const;

export default function AdminArea() {
  const { t } = useTranslation();
  const location = useLocation();
  const section = SECTIONS.find((s) => location.pathname.startsWith(`/admin/${s}`)) ?? "agents";
  return (
    <Stack>
      <Title order={2}>
        {t("admin.title")}: {t(`admin.sections.${section}`)}
      </Title>
      <Group component="nav" aria-label={t("admin.nav")} gap="xs">
        {SECTIONS.map((s) => (
          <Button
            key={s}
            component={Link}
            to={`/admin/${s}`}
            variant={s === section ? "filled" : "default"}
            aria-current={s === section ? "page" : undefined}
          >
            {t(`admin.sections.${s}`)}
          </Button>
        ))}
      </Group>
      <Suspense
        fallback={
          <Center h="30vh">
            <Loader role="status" aria-label={t("common.loading")} />
          </Center>
        }
      >
        <Routes>
          <Route path="agents" element={<AgentsAdmin />} />
          <Route path="teams" element={<TeamsAdmin />} />
          <Route path="branding" element={<BrandingAdmin />} />
          <Route path="options" element={<OptionsAdmin />} />
          <Route path="reports" element={<ReportsAdmin />} />
          <Route path="webhooks" element={<WebhooksAdmin />} />
          <Route path="mail" element={<EmailAdmin />} />
          <Route path="sla" element={<SlaAdmin />} />
          <Route path="calendars" element={<CalendarsAdmin />} />
          <Route path="assignment" element={<AssignmentAdmin />} />
          <Route path="routing" element={<RoutingAdmin />} />
          <Route path="breaching" element={<BreachingSoon />} />
          <Route path="*" element={<Navigate to="agents" replace />} />
        </Routes>
      </Suspense>
    </Stack>
  );
}
