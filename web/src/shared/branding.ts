/**
 * The helpdesk's branding (name, logo, favicon, accent colour) as both portals show it: read
 * from the gateway without a token, so the sign-in pages show it too, and applied to the
 * document's title and favicon. A manager's change shows on the next load (cached a minute).
 */
import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import type { Schemas } from "./api/client";

export type Branding = Schemas["BrandingView"];

export const brandingKey = ["branding"] as const;

export async function fetchBranding(): Promise<Branding> {
  const response = await fetch("/api/branding");
  if (!response.ok) throw new Error(`branding: HTTP ${response.status}`);
  return (await response.json()) as Branding;
}

/** A branding image's URL (the document names it relative to the API root). */
export function brandingUrl(relative: string | null | undefined): string | null {
  return relative ? `/api/${relative}` : null;
}

/** Black or white, whichever reads better on ``hex`` (WCAG relative luminance). */
export function textOn(hex: string): string {
  const channel = (i: number) => {
    const value = parseInt(hex.slice(i, i + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  return (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) ? "#000000" : "#ffffff";
}

/** The branding, once loaded; sets the page's title and favicon from it. */
export function useBranding(): Branding | undefined {
  const branding = useQuery({ queryKey: brandingKey, queryFn: fetchBranding, staleTime: 60_000 });
  const data = branding.data;
  useEffect(() => {
    if (!data) return;
    document.title = data.helpdesk_name;
    const favicon = brandingUrl(data.favicon_url);
    let link = document.querySelector<HTMLLinkElement>("link[rel='icon']");
    if (favicon) {
      if (!link) {
        link = document.createElement("link");
        link.rel = "icon";
        document.head.appendChild(link);
      }
      link.href = favicon;
    } else {
      link?.remove();
    }
  }, [data]);
  return data;
}
