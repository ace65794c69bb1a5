/**
 * The signed-in session, against the API gateway's auth API:
 *   POST /api/auth/sign-in {email, password} → {access_token, token_type, expires_in} + refresh cookie
 *   POST /api/auth/refresh (HttpOnly cookie)  → the same body
 *   POST /api/auth/sign-out
 * The access token lives in memory only (never in storage); it is renewed silently shortly
 * before it expires, and once more when a request answers 401.
 */

export interface TokenAnswer {
  access_token: string;
  token_type: string;
  expires_in: number;
}

/** What the app shows about the signed-in person, read from the token's claims. */
export interface Identity {
  subject: string;
  name: string;
  role: string;
  email: string | null;
}

export type SessionState =
  | { status: "unknown" }
  | { status: "signed-out"; reason?: "expired" | "signed-out" }
  | { status: "signed-in"; identity: Identity };

type Listener = (state: SessionState) => void;

/** Renew this many seconds before the token expires (or halfway, for short tokens). */
const RENEW_MARGIN_SECONDS = 60;

export class SignInError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "SignInError";
  }
}

function decodeClaims(token: string): Record<string, unknown> {
  const payload = token.split(".")[1];
  if (!payload) return {};
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims === "object" && claims !== null ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function identityOf(token: string): Identity {
  const claims = decodeClaims(token);
  const text = (key: string): string | null => {
    const value = claims[key];
    return typeof value === "string" && value ? value : null;
  };
  return {
    subject: text("sub") ?? "",
    name: text("name") ?? text("email") ?? "",
    role: text("role") ?? "",
    email: text("email"),
  };
}

export class Session {
  private token: string | null = null;
  private state: SessionState = { status: "unknown" };
  private listeners = new Set<Listener>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private refreshing: Promise<boolean> | null = null;

  constructor(private readonly base = "/api/auth") {}

  get current(): SessionState {
    return this.state;
  }

  get accessToken(): string | null {
    return this.token;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sign in with email and password; throws SignInError with the gateway's status. */
  async signIn(email: string, password: string): Promise<void> {
    const response = await this.post("sign-in", { email, password });
    this.accept((await response.json()) as TokenAnswer);
  }

  /**
   * Choose a password with an emailed link's token (an invitation, or a password reset):
   * the gateway signs the person in. Throws SignInError (400: link expired or used, 422: weak).
   */
  async setPassword(link: "invitation" | "reset", token: string, password: string): Promise<void> {
    const path = link === "invitation" ? "invitations/accept" : "password-reset/confirm";
    const response = await this.post(path, { token, password });
    this.accept((await response.json()) as TokenAnswer);
  }

  /** Ask for a password reset mail (the gateway answers the same whether the account exists). */
  async requestPasswordReset(email: string): Promise<void> {
    await this.post("password-reset", { email });
  }

  /** POST JSON to the auth API; a refusal throws SignInError with the gateway's status. */
  private async post(path: string, body: unknown): Promise<Response> {
    const response = await fetch(`${this.base}/${path}`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      throw new SignInError(response.status, await detailOf(response));
    }
    return response;
  }

  /** Customers: mail a one-time sign-in link and code to this address (always accepted). */
  async requestCustomerLink(email: string): Promise<void> {
    const response = await fetch(`${this.base}/customer/link`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email }),
    });
    if (!response.ok) throw new SignInError(response.status, await detailOf(response));
  }

  /** Customers: sign in with the emailed link's token, or with the email and 6-digit code. */
  async redeemCustomer(proof: { token: string } | { email: string; code: string }): Promise<void> {
    const response = await fetch(`${this.base}/customer/redeem`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(proof),
    });
    if (!response.ok) throw new SignInError(response.status, await detailOf(response));
    this.accept((await response.json()) as TokenAnswer);
  }

  /**
   * Get a fresh access token from the refresh cookie. Concurrent callers share one request.
   * Resolves false (and signs out locally) when the session is gone.
   */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  async signOut(): Promise<void> {
    try {
      await fetch(`${this.base}/sign-out`, { method: "POST", credentials: "same-origin" });
    } finally {
      this.drop({ status: "signed-out", reason: "signed-out" });
    }
  }

  private async doRefresh(): Promise<boolean> {
    let response: Response;
    try {
      response = await fetch(`${this.base}/refresh`, {
        method: "POST",
        credentials: "same-origin",
      });
    } catch {
      // Network trouble: keep the current token (it may still be valid) and try again soon.
      if (this.token) this.schedule(30);
      else this.drop({ status: "signed-out" });
      return this.token !== null;
    }
    if (!response.ok) {
      const wasSignedIn = this.state.status === "signed-in";
      this.drop({ status: "signed-out", ...(wasSignedIn ? { reason: "expired" as const } : {}) });
      return false;
    }
    this.accept((await response.json()) as TokenAnswer);
    return true;
  }

  private accept(answer: TokenAnswer): void {
    this.token = answer.access_token;
    const lifetime = Math.max(answer.expires_in, 1);
    this.schedule(Math.max(lifetime - RENEW_MARGIN_SECONDS, lifetime / 2));
    this.emit({ status: "signed-in", identity: identityOf(answer.access_token) });
  }

  private schedule(seconds: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), seconds * 1000);
  }

  private drop(state: SessionState): void {
    clearTimeout(this.timer);
    this.token = null;
    this.emit(state);
  }

  private emit(state: SessionState): void {
    this.state = state;
    for (const listener of this.listeners) listener(state);
  }
}

async function detailOf(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { detail?: unknown };
    if (typeof body.detail === "string") return body.detail;
  } catch {
    // not JSON
  }
  return response.statusText || `HTTP ${response.status}`;
}

export const session = new Session();
