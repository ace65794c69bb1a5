/**
 * @mentions in internal notes. The notification service (domain/mentions.py) reads a mention
 * as ``@`` followed by an active agent's name or email in the note's text, the longest match
 * winning; so the editor offers agents by name or email as the agent types after ``@`` and
 * inserts ``@Full Name`` (TipTap's Mention node: one unit to delete, and plain "@Full Name" in
 * the text the ticket service derives). Arrow keys, Enter or Tab pick; Escape closes.
 */
import { Paper, Text, UnstyledButton } from "@mantine/core";
import Mention from "@tiptap/extension-mention";
import type { SuggestionKeyDownProps, SuggestionProps } from "@tiptap/suggestion";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import type { Agent } from "../shared/api/client";
import { useAgents } from "./data";
import { TOOLS_NS } from "./i18n/register";

const SHOWN = 6;

interface Offer {
  items: Agent[];
  index: number;
  rect: DOMRect | null;
  choose: (agent: Agent) => void;
}

type Props = SuggestionProps<Agent, { id: string; label: string }>;

export function matchingAgents(agents: Agent[], query: string): Agent[] {
  const wanted = query.trim().toLocaleLowerCase();
  return agents
    .filter((agent) => agent.active)
    .filter(
      (agent) =>
        !wanted ||
        agent.name.toLocaleLowerCase().includes(wanted) ||
        agent.email.toLocaleLowerCase().startsWith(wanted),
    )
    .slice(0, SHOWN);
}

/** Between the editor's plugin (outside React) and the component showing the offer. */
class Bridge {
  agents: Agent[] = [];
  offer: Offer | null = null;
  constructor(readonly publish: (offer: Offer | null) => void) {}
  know(agents: Agent[]) {
    this.agents = agents;
  }
}

function mentionExtension(bridge: Bridge) {
  const set = (offer: Offer | null) => {
    bridge.offer = offer;
    bridge.publish(offer);
  };
  const show = (props: Props, index: number) =>
    set({
      items: props.items,
      index: Math.min(index, Math.max(0, props.items.length - 1)),
      rect: props.clientRect?.() ?? null,
      choose: (agent) => props.command({ id: agent.id, label: agent.name }),
    });
  const move = (current: Offer, by: number) => {
    if (current.items.length === 0) return;
    set({ ...current, index: (current.index + by + current.items.length) % current.items.length });
  };
  return Mention.configure({
    HTMLAttributes: { class: "mention" },
    suggestion: {
      char: "@",
      allowSpaces: true,
      items: ({ query }) => matchingAgents(bridge.agents, query),
      render: () => ({
        onStart: (props: Props) => show(props, 0),
        onUpdate: (props: Props) => show(props, bridge.offer?.index ?? 0),
        onExit: () => set(null),
        onKeyDown: ({ event }: SuggestionKeyDownProps) => {
          const current = bridge.offer;
          if (!current) return false;
          if (event.key === "ArrowDown") move(current, 1);
          else if (event.key === "ArrowUp") move(current, -1);
          else if (event.key === "Enter" || event.key === "Tab") {
            const agent = current.items[current.index];
            if (!agent) return false;
            current.choose(agent);
          } else if (event.key === "Escape") set(null);
          else return false;
          return true;
        },
      }),
    },
  });
}

/** The Mention extension for an editor, and the offer (the agents to pick from) to render. */
export function useMentions() {
  const agents = useAgents();
  const [offer, setOffer] = useState<Offer | null>(null);
  const [bridge] = useState(() => new Bridge(setOffer));
  useEffect(() => bridge.know(agents.data ?? []), [bridge, agents.data]);
  const [extension] = useState(() => mentionExtension(bridge));
  return { extension, offer };
}

/** The agents offered for the mention being typed: a listbox under the caret. */
export function MentionOffer({ offer }: { offer: Offer | null }) {
  const { t } = useTranslation(TOOLS_NS);
  if (!offer) return null;
  const style = offer.rect
    ? { position: "fixed" as const, top: offer.rect.bottom + 4, left: offer.rect.left }
    : undefined;
  return (
    <Paper shadow="md" withBorder p={4} style={{ ...style, zIndex: 300 }} miw={220}>
      {offer.items.length === 0 ? (
        <Text size="sm" c="dimmed" p="xs" role="status">
          {t("mention.nobody")}
        </Text>
      ) : (
        <div role="listbox" aria-label={t("mention.label")}>
          {offer.items.map((agent, index) => (
            <UnstyledButton
              key={agent.id}
              role="option"
              aria-selected={index === offer.index}
              tabIndex={-1}
              display="block"
              w="100%"
              px="xs"
              py={4}
              bg={index === offer.index ? "indigo.0" : undefined}
              onMouseDown={(event) => {
                event.preventDefault(); // keep the caret in the editor
                offer.choose(agent);
              }}
            >
              <Text size="sm" fw={500}>
                {agent.name}
              </Text>
              <Text size="xs" c="dimmed">
                {agent.email}
              </Text>
            </UnstyledButton>
          ))}
        </div>
      )}
    </Paper>
  );
}
