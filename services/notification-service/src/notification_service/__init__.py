"""The notification service: the right person hears about a ticket — in the app (stored and pushed
over Server-Sent Events), by email, and other systems by signed webhooks (Standard Webhooks)."""
