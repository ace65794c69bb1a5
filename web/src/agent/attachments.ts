/**
 * Attachments through the gateway: upload one file as the raw body (`POST /api/attachments`,
 * up to 20 MB, the ticket service's limit), download with the bearer token. A plain link
 * cannot carry the token (it lives in memory only), so a download fetches the file and hands
 * the browser a local blob URL to save.
 */
import { authorisedFetch, ApiError, type Schemas } from "../shared/api/client";

export type AttachmentRef = Schemas["AttachmentRef"];

export const MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024;

export class TooLarge extends Error {
  constructor(readonly filename: string) {
    super(filename);
    this.name = "TooLarge";
  }
}

async function detail(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { detail?: unknown };
    if (typeof body.detail === "string") return body.detail;
  } catch {
    // not JSON
  }
  return `HTTP ${response.status}`;
}

export async function uploadAttachment(file: File): Promise<AttachmentRef> {
  if (file.size > MAX_ATTACHMENT_BYTES) throw new TooLarge(file.name);
  const response = await authorisedFetch(
    new Request(`/api/attachments?filename=${encodeURIComponent(file.name)}`, {
      method: "POST",
      headers: { "Content-Type": file.type || "application/octet-stream" },
      body: file,
    }),
  );
  if (response.status === 413) throw new TooLarge(file.name);
  if (!response.ok) throw new ApiError(response.status, await detail(response));
  return (await response.json()) as AttachmentRef;
}

export async function downloadAttachment(id: string, filename: string): Promise<void> {
  const response = await authorisedFetch(new Request(`/api/attachments/${id}`));
  if (!response.ok) throw new ApiError(response.status, await detail(response));
  const url = URL.createObjectURL(await response.blob());
  try {
    const link = document.createElement("a");
    link.href = url;
    link.download = filename;
    document.body.append(link);
    link.click();
    link.remove();
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}
