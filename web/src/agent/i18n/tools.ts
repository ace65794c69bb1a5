/**
 * Texts of the agent's team tools (escalation, bulk edits of the list, @mentions in notes) in
 * their own i18next namespace ("tools"), so that screens built in parallel do not edit one
 * file. Indonesian has the same keys (checked by the type).
 */
export const toolsEn = {
  escalate: {
    open: "Escalate to {{team}}",
    title: "Escalate #{{number}}",
    explain:
      "#{{number}} moves from {{from}} to {{to}} (the next tier). An agent who is not a member of {{to}} is unassigned and assignment runs again.",
    reason: "Reason (an internal note)",
    cancel: "Cancel",
    do: "Escalate",
    failed: "The ticket could not be escalated",
    done: "Escalated to {{team}}.",
    tier: "Tier {{tier}}",
  },
};

export type ToolsTexts = typeof toolsEn;

export const toolsId: ToolsTexts = {
  escalate: {
    open: "Eskalasi ke {{team}}",
    title: "Eskalasi #{{number}}",
    explain:
      "#{{number}} pindah dari {{from}} ke {{to}} (tingkat berikutnya). Agen yang bukan anggota {{to}} dilepas dan penugasan berjalan lagi.",
    reason: "Alasan (catatan internal)",
    cancel: "Batal",
    do: "Eskalasi",
    failed: "Tiket tidak dapat dieskalasi",
    done: "Dieskalasi ke {{team}}.",
    tier: "Tingkat {{tier}}",
  },
};
