/**
 * Keyboard shortcuts for the common actions, and "?" for the list of them. The actions press
 * the same buttons and fields a mouse would (marked with data-shortcut), so a shortcut does
 * exactly what the screen offers and nothing when the screen does not offer it. Keys typed in
 * a field or the rich-text editor are left alone (Mantine's useHotkeys).
 */
import { useHotkeys } from "@mantine/hooks";
import { lazy, Suspense, useState } from "react";

const ShortcutHelp = lazy(() => import("./ShortcutHelp"));

export const SHORTCUTS = [
  { keys: "?", action: "help" },
  { keys: "/", action: "search" },
  { keys: "c", action: "create" },
  { keys: "r", action: "reply" },
  { keys: "n", action: "note" },
  { keys: "a", action: "assign-me" },
  { keys: "s", action: "status" },
] as const;

function target(action: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(`[data-shortcut="${action}"]`);
}

function press(action: string) {
  const element = target(action);
  if (!element) return;
  if (element instanceof HTMLInputElement) {
    element.focus();
    if (action === "status") element.click(); // opens the options
    return;
  }
  element.click();
  if (action === "reply" || action === "note") {
    // The tab switches the editor; put the caret in the one on screen once it is rendered.
    setTimeout(() => {
      const editors = document.querySelectorAll<HTMLElement>(
        '[data-composer] [contenteditable="true"]',
      );
      Array.from(editors)
        .find((editor) => editor.getClientRects().length > 0)
        ?.focus();
    }, 50);
  }
}

export function Shortcuts() {
  const [help, setHelp] = useState(false);
  useHotkeys([
    ["shift+?", () => setHelp(true)],
    ["?", () => setHelp(true)],
    ...SHORTCUTS.filter((s) => s.action !== "help").map(
      (s): [string, (event: KeyboardEvent) => void] => [
        s.keys,
        (event) => {
          if (!target(s.action)) return;
          event.preventDefault(); // "/" would otherwise be typed into the focused search field
          press(s.action);
        },
      ],
    ),
  ]);
  return help ? (
    <Suspense fallback={null}>
      <ShortcutHelp onClose={() => setHelp(false)} />
    </Suspense>
  ) : null;
}
