/**
 * The typed client of the admin console's other services through the gateway: the notification
 * service's webhooks and the mail gateway's accounts and quarantine. Paths and bodies come from
 * admin-services.d.ts (web/scripts/api_types.py); the same bearer token and refresh as `api`.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "../../shared/api/admin-services";
import { authorisedFetch } from "../../shared/api/client";

export type AdminSchemas = components["schemas"];

export const adminApi = createClient<paths>({ baseUrl: "/api", fetch: authorisedFetch });
