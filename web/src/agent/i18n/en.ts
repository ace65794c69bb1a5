/**
 * English texts of the agent portal's own screens, in their own i18next namespace ("agent"):
 * the shared translation file stays the customer portal's and the shell's, so the two portals
 * can grow without editing one file. id.ts has the same keys (checked by its type).
 */
export const agentEn = {
  password: {
    forgot: "Forgot your password?",
    forgotTitle: "Reset your password",
    forgotHelp: "Enter your email address: we send you a link to choose a new password.",
    send: "Send the reset link",
    sent: "If this address has an account, a reset link is on its way. Check your mailbox.",
    back: "Back to sign-in",
    inviteTitle: "Welcome to the helpdesk",
    inviteHelp: "Choose the password you will sign in with.",
    resetTitle: "Choose a new password",
    resetHelp: "Every other session of your account ends when you save it.",
    newPassword: "New password",
    confirm: "Repeat the password",
    rules: "At least 12 characters. A few words make a good one.",
    mismatch: "The two passwords are not the same.",
    tooShort: "The password needs at least 12 characters.",
    save: "Save and sign in",
    noToken: "This link is incomplete. Open the link from the email again.",
    badLink: "This link has expired or was already used. Ask for a new one.",
    tooMany: "Too many attempts. Wait a minute and try again.",
    unavailable: "This is not available right now. Try again shortly.",
  },
  history: {
    title: "History",
    created: "Created (channel: {{channel}})",
    status: "Status: {{from}} → {{to}}",
    priority: "Priority: {{from}} → {{to}}",
    field: "{{field}}: {{from}} → {{to}}",
    tags: "Tags: {{tags}}",
    team: "Team: {{from}} → {{to}}",
    assigned: "Assigned to {{name}}",
    unassigned: "Unassigned",
    reply: "Replied to the customer",
    note: "Added an internal note",
    mergedInto: "Merged into #{{number}}",
    mergedHere: "#{{number}} merged into this ticket",
    someone: "an agent",
    noTeam: "no team",
    system: "Helpdesk",
  },
  composer: {
    attach: "Attach files",
    dropHint: "or drop files here (up to 20 MB each)",
    tooBig: "{{name}} is bigger than 20 MB.",
    uploadFailed: "{{name}} could not be uploaded: {{reason}}",
    remove: "Remove {{name}}",
    attached: "Attached files",
    download: "Download {{name}}",
    toolbar: "Formatting",
    bold: "Bold",
    italic: "Italic",
    bulletList: "Bulleted list",
    orderedList: "Numbered list",
    link: "Link",
    unlink: "Remove link",
    blockquote: "Quote",
    code: "Code",
  },
} as const;

type Strings<T> = { [K in keyof T]: T[K] extends string ? string : Strings<T[K]> };
export type AgentTexts = Strings<typeof agentEn>;
