"""Pure rules of the notification service: who hears about which event, how, and when to retry
a webhook. No I/O here; the service layer feeds these functions what the adapters read."""
