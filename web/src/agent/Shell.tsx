import {
  AppShell,
  Burger,
  Button,
  Group,
  Menu,
  NavLink,
  ScrollArea,
  Text,
  Title,
  UnstyledButton,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useQueryClient } from "@tanstack/react-query";
import { lazy, memo, Suspense, useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation, useSearchParams } from "react-router";
import { session, type Identity } from "../shared/auth/session";
import { BrandMark, useAccentStrip } from "./Brand";
import { useMe, useTeams, useTicketOptions } from "./data";
import { LanguageSwitch, TimeZoneSwitch } from "./Preferences";
import { Shortcuts } from "./Shortcuts";
import { prefetchList } from "./listQuery";
import { FIXED_VIEWS } from "./views";

const CreateTicketDialog = lazy(() => import("./CreateTicketDialog"));
const NotificationBell = lazy(() => import("./NotificationBell"));

/** A view's URL: `/` for the ticket list, `/?v=<view>` for the others. */
function viewSearch(view: string): string {
  return view === "list" ? "" : `?v=${encodeURIComponent(view)}`;
}

/** One view link. Memoized on `active`: a view switch renders the two links whose state
 *  changed, not all of them (each is a NavLink: a button, its sections, its styles). */
const ViewLink = memo(function ViewLink({
  view,
  label,
  active,
}: {
  view: string;
  label: string;
  active: boolean;
}) {
  const queryClient = useQueryClient();
  return (
    <NavLink
      component={Link}
      to={`/${viewSearch(view)}`}
      // The view's first page is asked for now, not after React rendered the new URL.
      onClick={() => prefetchList(queryClient, new URLSearchParams(viewSearch(view)))}
      label={label}
      active={active}
      variant="filled"
      aria-current={active ? "page" : undefined}
    />
  );
});

/** The view links: rendered again when the current view changes, not on a filter change. */
const ViewLinks = memo(function ViewLinks({ current }: { current: string }) {
  const { t } = useTranslation();
  const options = useTicketOptions();
  const me = useMe();
  const teams = useTeams();
  const myTeams = (teams.data ?? []).filter((team) =>
    team.members.some((member) => member.id === me.data?.id),
  );
  return (
    <nav aria-label={t("nav.views")}>
      {FIXED_VIEWS.filter((view) => view !== "mine" || me.data).map((view) => (
        <ViewLink key={view} view={view} label={t(`views.${view}`)} active={current === view} />
      ))}
      {myTeams.map((team) => (
        <ViewLink
          key={team.id}
          view={`team:${team.id}`}
          label={t("views.team", { name: team.name })}
          active={current === `team:${team.id}`}
        />
      ))}
      <Text size="xs" fw={700} c="dimmed" tt="uppercase" mt="md" mb={4} px="sm" component="h2">
        {t("nav.byStatus")}
      </Text>
      {(options.data?.statuses ?? []).map((status) => (
        <ViewLink
          key={status.name}
          view={`status:${status.name}`}
          label={t(`status.${status.name}`, { defaultValue: status.name })}
          active={current === `status:${status.name}`}
        />
      ))}
    </nav>
  );
});

function Navigation() {
  const [params] = useSearchParams();
  const onList = useLocation().pathname === "/";
  return <ViewLinks current={onList ? (params.get("v") ?? "list") : ""} />;
}

/** Managers only: the admin area (its own chunk, loaded when opened). */
function AdminLink() {
  const { t } = useTranslation();
  const active = useLocation().pathname.startsWith("/admin");
  return (
    <AppShell.Section component="nav" aria-label={t("nav.admin")}>
      <NavLink
        component={Link}
        to="/admin/agents"
        label={t("nav.admin")}
        active={active}
        variant="filled"
        aria-current={active ? "page" : undefined}
      />
    </AppShell.Section>
  );
}

export function Shell({ identity, children }: { identity: Identity; children: ReactNode }) {
  const { t } = useTranslation();
  const [opened, { toggle }] = useDisclosure();
  const [creating, setCreating] = useState(false);
  const strip = useAccentStrip();
  return (
    <AppShell
      header={{ height: 68 }}
      navbar={{ width: 240, breakpoint: "sm", collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header style={strip}>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group wrap="nowrap">
            <Burger
              opened={opened}
              onClick={toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label={t("nav.toggle")}
            />
            <Title order={1} size="h4">
              <Link to="/" style={{ color: "inherit", textDecoration: "none" }}>
                <BrandMark />
              </Link>
            </Title>
            <Button size="xs" data-shortcut="create" onClick={() => setCreating(true)}>
              {t("create.open")}
            </Button>
          </Group>
          <Group wrap="nowrap" gap="sm" align="end">
            <Suspense fallback={null}>
              <NotificationBell />
            </Suspense>
            <Shortcuts />
            <LanguageSwitch />
            <TimeZoneSwitch />
            <Menu position="bottom-end">
              <Menu.Target>
                <UnstyledButton aria-label={t("user.menu", { name: identity.name })} pb={4}>
                  <Text size="sm" fw={600}>
                    {identity.name}
                  </Text>
                </UnstyledButton>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Label>
                  {t(`role.${identity.role}`, { defaultValue: identity.role })}
                </Menu.Label>
                <Menu.Item onClick={() => void session.signOut()}>{t("user.signOut")}</Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        <AppShell.Section grow component={ScrollArea}>
          <Navigation />
        </AppShell.Section>
        {identity.role === "manager" && <AdminLink />}
      </AppShell.Navbar>
      <AppShell.Main>{children}</AppShell.Main>
      {creating && (
        <Suspense fallback={null}>
          <CreateTicketDialog onClose={() => setCreating(false)} />
        </Suspense>
      )}
    </AppShell>
  );
}
