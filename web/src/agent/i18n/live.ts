/**
 * Texts of the agent portal's live features (who else is on a ticket) in their own i18next
 * namespace ("live"). Indonesian has the same keys (checked by the type).
 */
export const liveEn = {
  presence: {
    label: "Other agents on this ticket",
    viewing: "{{name}} is viewing this ticket",
    replying: "{{name}} is writing a reply",
    someone: "Another agent",
    collision: "Someone else is replying: check before you send.",
  },
};

export const liveId: typeof liveEn = {
  presence: {
    label: "Agen lain di tiket ini",
    viewing: "{{name}} sedang melihat tiket ini",
    replying: "{{name}} sedang menulis balasan",
    someone: "Agen lain",
    collision: "Ada yang sedang membalas: periksa dulu sebelum mengirim.",
  },
};
