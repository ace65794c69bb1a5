import { Paper, Stack, Title } from "@mantine/core";
import type { ReactNode } from "react";

/** "Met" and "satisfied" badges: 6:1 with white text (Mantine's green.9 is under 4.5:1). */
export const GOOD_COLOR = "#1e6b30";

/** A titled panel of the ticket page's side column (a region named by its heading). */
export function SidePanel({
  id,
  title,
  children,
}: {
  id: string;
  title: string;
  children: ReactNode;
}) {
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby={id}>
      <Stack gap="xs">
        <Title order={3} size="h4" id={id}>
          {title}
        </Title>
        {children}
      </Stack>
    </Paper>
  );
}
