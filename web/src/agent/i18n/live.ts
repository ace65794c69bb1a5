/**
 * Texts of the agent portal's live features (who else is on a ticket) and of selecting every
 * ticket of a view, in their own i18next namespace ("live"). Indonesian has the same keys
 * (checked by the type).
 */
export const liveEn = {
  presence: {
    label: "Other agents on this ticket",
    viewing: "{{name}} is viewing this ticket",
    replying: "{{name}} is writing a reply",
    someone: "Another agent",
    collision: "Someone else is replying: check before you send.",
  },
  matching: {
    pageSelected_one: "The {{count}} ticket on this page is selected.",
    pageSelected_other: "All {{count}} tickets on this page are selected.",
    selectAll_one: "Select the {{count}} ticket matching this view",
    selectAll_other: "Select all {{count}} tickets matching this view",
    selected_one: "{{count}} ticket matching this view selected",
    selected_other: "All {{count}} tickets matching this view selected",
    clear: "Clear the selection",
    collecting: "Finding the tickets: {{done}} of {{total}}",
    applying: "Updating: {{done}} of {{total}}",
    failed: "The tickets could not be listed, nothing was changed: {{detail}}",
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
  matching: {
    pageSelected_one: "{{count}} tiket di halaman ini dipilih.",
    pageSelected_other: "Semua {{count}} tiket di halaman ini dipilih.",
    selectAll_one: "Pilih {{count}} tiket yang cocok dengan tampilan ini",
    selectAll_other: "Pilih semua {{count}} tiket yang cocok dengan tampilan ini",
    selected_one: "{{count}} tiket yang cocok dengan tampilan ini dipilih",
    selected_other: "Semua {{count}} tiket yang cocok dengan tampilan ini dipilih",
    clear: "Hapus pilihan",
    collecting: "Mencari tiket: {{done}} dari {{total}}",
    applying: "Memperbarui: {{done}} dari {{total}}",
    failed: "Daftar tiket tidak dapat diambil, tidak ada yang diubah: {{detail}}",
  },
};
