import { Paper, Stack, Title } from "@mantine/core";
import type { ReactNode } from "react";

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
