/**
 * Texts of the agent's working tools on the ticket page (SLA timers, the satisfaction rating),
 * in their own i18next namespace ("work") so that screens built in parallel do not edit one
 * file. Indonesian has the same keys (checked by the type).
 */
export const workEn = {
  sla: {
    title: "SLA times",
    policy: "Policy: {{policy}}",
    none: "No SLA applies to this ticket.",
    unavailable: "SLA times are not available right now.",
    metric: {
      first_response: "First response",
      next_response: "Next response",
      resolution: "Resolution",
    },
    state: {
      running: "Running",
      paused: "Paused",
      met: "Met",
      breached: "Breached",
    },
    due: "Due {{when}}",
    metAt: "Met {{when}}",
    remaining: "{{time}} of business time left",
    over: "{{time}} of business time over",
    hoursMinutes: "{{hours}} h {{minutes}} min",
    minutes: "{{minutes}} min",
  },
  bell: {
    label_one: "Notifications ({{count}} unread)",
    label_other: "Notifications ({{count}} unread)",
    title: "Notifications",
    readAll: "Mark all as read",
    empty: "Nothing new.",
    unavailable: "Notifications are not available right now.",
  },
  rating: {
    title: "Customer satisfaction",
    none: "The customer has not rated this ticket yet.",
    satisfied: "Satisfied",
    unsatisfied: "Not satisfied",
    stars: "{{score}} of 5 stars",
    thumbsUp: "Good",
    thumbsDown: "Bad",
    resolution: "Resolution {{n}}, rated {{when}}",
  },
};

export type WorkTexts = typeof workEn;

export const workId: WorkTexts = {
  sla: {
    title: "Waktu SLA",
    policy: "Kebijakan: {{policy}}",
    none: "Tidak ada SLA untuk tiket ini.",
    unavailable: "Waktu SLA tidak tersedia saat ini.",
    metric: {
      first_response: "Respons pertama",
      next_response: "Respons berikutnya",
      resolution: "Penyelesaian",
    },
    state: {
      running: "Berjalan",
      paused: "Dijeda",
      met: "Terpenuhi",
      breached: "Terlampaui",
    },
    due: "Batas {{when}}",
    metAt: "Terpenuhi {{when}}",
    remaining: "Sisa {{time}} waktu kerja",
    over: "Lewat {{time}} waktu kerja",
    hoursMinutes: "{{hours}} j {{minutes}} mnt",
    minutes: "{{minutes}} mnt",
  },
  bell: {
    label_one: "Notifikasi ({{count}} belum dibaca)",
    label_other: "Notifikasi ({{count}} belum dibaca)",
    title: "Notifikasi",
    readAll: "Tandai semua sudah dibaca",
    empty: "Tidak ada yang baru.",
    unavailable: "Notifikasi tidak tersedia saat ini.",
  },
  rating: {
    title: "Kepuasan pelanggan",
    none: "Pelanggan belum menilai tiket ini.",
    satisfied: "Puas",
    unsatisfied: "Tidak puas",
    stars: "{{score}} dari 5 bintang",
    thumbsUp: "Baik",
    thumbsDown: "Buruk",
    resolution: "Penyelesaian ke-{{n}}, dinilai {{when}}",
  },
};
