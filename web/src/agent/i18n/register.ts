/** Registers the agent portal's namespace with the shared i18next instance (bundled texts). */
import { i18n } from "../../shared/i18n/i18n";
import { agentEn } from "./en";
import { agentId } from "./id";
import { liveEn, liveId } from "./live";
import { toolsEn, toolsId } from "./tools";
import { workEn, workId } from "./work";

export const AGENT_NS = "agent";
export const WORK_NS = "work";
export const TOOLS_NS = "tools";
export const LIVE_NS = "live";

export function registerAgentTexts(): void {
  i18n.addResourceBundle("en", AGENT_NS, agentEn, true, true);
  i18n.addResourceBundle("id", AGENT_NS, agentId, true, true);
  i18n.addResourceBundle("en", WORK_NS, workEn, true, true);
  i18n.addResourceBundle("id", WORK_NS, workId, true, true);
  i18n.addResourceBundle("en", TOOLS_NS, toolsEn, true, true);
  i18n.addResourceBundle("id", TOOLS_NS, toolsId, true, true);
  i18n.addResourceBundle("en", LIVE_NS, liveEn, true, true);
  i18n.addResourceBundle("id", LIVE_NS, liveId, true, true);
}
