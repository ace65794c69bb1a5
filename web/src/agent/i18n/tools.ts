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
  bulk: {
    title: "Bulk actions",
    selected_one: "{{count}} ticket selected",
    selected_other: "{{count}} tickets selected",
    assign: "Assign to",
    unassign: "Nobody (unassign)",
    status: "Set status",
    tag: "Add tag",
    apply_one: "Apply to {{count}} ticket",
    apply_other: "Apply to {{count}} tickets",
    report_one: "{{count}} ticket updated",
    report_other: "{{count}} tickets updated",
    conflicts_one: "{{count}} ticket changed since you loaded the list and was not updated:",
    conflicts_other: "{{count}} tickets changed since you loaded the list and were not updated:",
    retry_one: "Apply to it as it is now",
    retry_other: "Apply to them as they are now",
    failed_one: "{{count}} ticket was refused:",
    failed_other: "{{count}} tickets were refused:",
    dismiss: "Dismiss the report",
    selectAll: "Select every ticket on this page",
    selectRow: "Select #{{number}} {{subject}}",
  },
  mention: {
    label: "Agents to mention",
    nobody: "No agent by that name.",
    hint: "Type @ and a name to notify a colleague.",
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
  bulk: {
    title: "Aksi massal",
    selected_one: "{{count}} tiket dipilih",
    selected_other: "{{count}} tiket dipilih",
    assign: "Tugaskan ke",
    unassign: "Tidak ada (lepas penugasan)",
    status: "Ubah status",
    tag: "Tambah tag",
    apply_one: "Terapkan ke {{count}} tiket",
    apply_other: "Terapkan ke {{count}} tiket",
    report_one: "{{count}} tiket diperbarui",
    report_other: "{{count}} tiket diperbarui",
    conflicts_one: "{{count}} tiket berubah sejak daftar dimuat dan tidak diperbarui:",
    conflicts_other: "{{count}} tiket berubah sejak daftar dimuat dan tidak diperbarui:",
    retry_one: "Terapkan ke versi terbarunya",
    retry_other: "Terapkan ke versi terbarunya",
    failed_one: "{{count}} tiket ditolak:",
    failed_other: "{{count}} tiket ditolak:",
    dismiss: "Tutup laporan",
    selectAll: "Pilih semua tiket di halaman ini",
    selectRow: "Pilih #{{number}} {{subject}}",
  },
  mention: {
    label: "Agen yang disebut",
    nobody: "Tidak ada agen dengan nama itu.",
    hint: "Ketik @ dan nama untuk memberi tahu rekan.",
  },
};
