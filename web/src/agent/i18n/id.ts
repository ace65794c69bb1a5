/** Bahasa Indonesia for the agent portal's own namespace (same keys as en.ts). */
import type { AgentTexts } from "./en";

export const agentId: AgentTexts = {
  password: {
    forgot: "Lupa kata sandi?",
    forgotTitle: "Atur ulang kata sandi",
    forgotHelp: "Masukkan alamat email Anda: kami kirimkan tautan untuk memilih kata sandi baru.",
    send: "Kirim tautan atur ulang",
    sent: "Jika alamat ini memiliki akun, tautan atur ulang sedang dikirim. Periksa kotak surat Anda.",
    back: "Kembali ke halaman masuk",
    inviteTitle: "Selamat datang di helpdesk",
    inviteHelp: "Pilih kata sandi yang akan Anda gunakan untuk masuk.",
    resetTitle: "Pilih kata sandi baru",
    resetHelp: "Semua sesi lain akun Anda berakhir saat Anda menyimpannya.",
    newPassword: "Kata sandi baru",
    confirm: "Ulangi kata sandi",
    rules: "Minimal 12 karakter. Beberapa kata menjadi kata sandi yang baik.",
    mismatch: "Kedua kata sandi tidak sama.",
    tooShort: "Kata sandi minimal 12 karakter.",
    save: "Simpan dan masuk",
    noToken: "Tautan ini tidak lengkap. Buka lagi tautan dari email.",
    badLink: "Tautan ini sudah kedaluwarsa atau sudah dipakai. Minta tautan baru.",
    tooMany: "Terlalu banyak percobaan. Tunggu sebentar lalu coba lagi.",
    unavailable: "Fitur ini sedang tidak tersedia. Coba lagi sebentar lagi.",
  },
};
