/**
 * The bell in the header: the agent's unread count and latest notifications, kept live by the
 * notification service's stream. Each notification about a ticket also refetches that ticket
 * and the lists at once, so a ticket open on screen shows someone else's change within the
 * stream's latency instead of the page's slow background refetch. Loaded lazily: the first
 * screen does not wait for it.
 */
import {
  ActionIcon,
  Button,
  Group,
  Indicator,
  Popover,
  ScrollArea,
  Stack,
  Text,
  UnstyledButton,
} from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { formatRelative } from "../shared/i18n/timezone";
import { WORK_NS } from "./i18n/register";
import {
  fetchNotifications,
  followNotifications,
  markAllRead,
  markRead,
  type AppNotification,
  type NotificationPage,
} from "./notificationStream";
import { useNow } from "./useNow";

const KEY = ["notifications"] as const;

function BellIcon() {
  return (
    <svg width="20" height="20" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path
        fill="none"
        stroke="currentColor"
        strokeWidth="2"
        strokeLinecap="round"
        strokeLinejoin="round"
        d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9M13.7 21a2 2 0 0 1-3.4 0"
      />
    </svg>
  );
}

/** Opens the stream for as long as the bell is on screen. */
function useLiveNotifications(): boolean {
  const queryClient = useQueryClient();
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const controller = new AbortController();
    const seen = (notification: AppNotification) => {
      queryClient.setQueryData<NotificationPage>(KEY, (page) => {
        if (!page || page.items.some((item) => item.id === notification.id)) return page;
        return {
          ...page,
          items: [notification, ...page.items].slice(0, 20),
          unread_count: page.unread_count + (notification.read ? 0 : 1),
        };
      });
      // A read of the page under way may have been answered before this notification was
      // stored; its answer would undo the count above, so it is asked again (the old one is
      // cancelled).
      if (queryClient.isFetching({ queryKey: KEY }) > 0) {
        void queryClient.invalidateQueries({ queryKey: KEY });
      }
      if (notification.ticket_id) {
        void queryClient.invalidateQueries({ queryKey: ["ticket", notification.ticket_id] });
        void queryClient.invalidateQueries({ queryKey: ["tickets"] });
      }
    };
    const opened = () => {
      setConnected(true);
      // What arrived while the stream was down is replayed; the count is re-read to match.
      void queryClient.invalidateQueries({ queryKey: KEY });
    };
    void followNotifications(controller.signal, seen, opened);
    return () => controller.abort();
  }, [queryClient]);
  return connected;
}

function NotificationItem({
  item,
  onOpen,
}: {
  item: AppNotification;
  onOpen: (item: AppNotification) => void;
}) {
  const { i18n } = useTranslation();
  const now = useNow();
  return (
    <UnstyledButton
      onClick={() => onOpen(item)}
      p="xs"
      style={{ borderRadius: 4, display: "block", width: "100%" }}
      bg={item.read ? undefined : "indigo.0"}
      data-read={item.read}
      data-testid="notification"
    >
      <Text size="sm" fw={item.read ? 400 : 700}>
        {item.title}
      </Text>
      {item.body && (
        <Text size="xs" lineClamp={2}>
          {item.body}
        </Text>
      )}
      <Text size="xs" c="dimmed">
        <time dateTime={item.created_at}>
          {formatRelative(item.created_at, i18n.resolvedLanguage ?? "en", now)}
        </time>
      </Text>
    </UnstyledButton>
  );
}

export default function NotificationBell() {
  const { t } = useTranslation(WORK_NS);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [opened, setOpened] = useState(false);
  const connected = useLiveNotifications();
  const page = useQuery({ queryKey: KEY, queryFn: fetchNotifications, retry: 1 });
  const unread = page.data?.unread_count ?? 0;
  const items = page.data?.items ?? [];

  const open = (item: AppNotification) => {
    setOpened(false);
    if (!item.read) {
      void markRead(item.id).then(() => queryClient.invalidateQueries({ queryKey: KEY }));
    }
    if (item.ticket_id) void navigate(`/tickets/${item.ticket_id}`);
  };
  const readAll = () => {
    const newest = items[0];
    if (!newest) return;
    void markAllRead(newest.seq).then(() => queryClient.invalidateQueries({ queryKey: KEY }));
  };

  return (
    // The Indicator stays outside Popover.Target: the target gets aria-expanded, which only a
    // button may carry.
    <Indicator
      label={unread > 99 ? "99+" : unread}
      size={18}
      color="red.9"
      disabled={unread === 0}
      offset={4}
    >
      <Popover position="bottom-end" width={360} opened={opened} onChange={setOpened} trapFocus>
        <Popover.Target>
          <ActionIcon
            variant="subtle"
            color="dark"
            size="lg"
            onClick={() => setOpened((value) => !value)}
            aria-label={t("bell.label", { count: unread })}
            data-live={connected}
          >
            <BellIcon />
          </ActionIcon>
        </Popover.Target>
        <Popover.Dropdown>
          <section aria-labelledby="notifications-title">
            <Group justify="space-between" mb="xs">
              <Text fw={700} id="notifications-title" component="h2" size="md" m={0}>
                {t("bell.title")}
              </Text>
              <Button size="compact-xs" variant="subtle" onClick={readAll} disabled={unread === 0}>
                {t("bell.readAll")}
              </Button>
            </Group>
            {page.isError && (
              <Text size="sm" c="dimmed">
                {t("bell.unavailable")}
              </Text>
            )}
            {page.isSuccess && items.length === 0 && (
              <Text size="sm" c="dimmed">
                {t("bell.empty")}
              </Text>
            )}
            <ScrollArea.Autosize mah={420}>
              <Stack gap={4}>
                {items.map((item) => (
                  <NotificationItem key={item.id} item={item} onOpen={open} />
                ))}
              </Stack>
            </ScrollArea.Autosize>
          </section>
        </Popover.Dropdown>
      </Popover>
    </Indicator>
  );
}
