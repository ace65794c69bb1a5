/**
 * A small rich-text field (bold, italic, bulleted lists) on the browser's own editing, so the
 * portal's bundle stays small. It hands back HTML; the ticket service sanitises every body it
 * stores (nh3), so nothing typed or pasted here can inject markup into the agent's view.
 */
import { ActionIcon, Box, Group, Paper, Text } from "@mantine/core";
import { useId, useImperativeHandle, useRef, type Ref } from "react";
import { useTranslation } from "react-i18next";
import { NAMESPACE } from "./texts";

export interface RichTextHandle {
  html(): string;
  clear(): void;
}

const COMMANDS = [
  { command: "bold", label: "create.bold", glyph: "B", style: { fontWeight: 700 } },
  { command: "italic", label: "create.italic", glyph: "I", style: { fontStyle: "italic" } },
  { command: "insertUnorderedList", label: "create.bullets", glyph: "•", style: {} },
] as const;

export function RichText({
  label,
  required,
  ref,
  minHeight = 120,
}: {
  label: string;
  required?: boolean;
  ref: Ref<RichTextHandle>;
  minHeight?: number;
}) {
  const { t } = useTranslation(NAMESPACE);
  const editor = useRef<HTMLDivElement>(null);
  const labelId = useId();
  useImperativeHandle(ref, () => ({
    html: () => {
      const node = editor.current;
      return node?.textContent.trim() ? node.innerHTML : "";
    },
    clear: () => {
      if (editor.current) editor.current.innerHTML = "";
    },
  }));
  return (
    <div>
      <Text component="div" id={labelId} fw={500} size="sm" mb={4}>
        {label}
        {required && <span aria-hidden="true"> *</span>}
      </Text>
      <Paper withBorder radius="sm">
        <Group gap={4} p={4} role="toolbar" aria-label={label}>
          {COMMANDS.map((item) => (
            <ActionIcon
              key={item.command}
              variant="subtle"
              color="dark"
              aria-label={t(item.label)}
              onMouseDown={(event) => event.preventDefault()}
              onClick={() => {
                editor.current?.focus();
                // Deprecated but supported by every browser; an editor library (ProseMirror,
                // TipTap) would cost most of the portal's bundle budget for three buttons.
                // eslint-disable-next-line @typescript-eslint/no-deprecated
                document.execCommand(item.command);
              }}
            >
              <span style={item.style}>{item.glyph}</span>
            </ActionIcon>
          ))}
        </Group>
        <Box
          ref={editor}
          contentEditable
          suppressContentEditableWarning
          role="textbox"
          aria-multiline="true"
          aria-labelledby={labelId}
          aria-required={required}
          tabIndex={0}
          p="sm"
          mih={minHeight}
          style={{ borderTop: "1px solid var(--mantine-color-gray-3)", outlineOffset: -2 }}
        />
      </Paper>
    </div>
  );
}
