"""Use cases: turning a batch of events into stored notifications, emails and webhook
deliveries; reading and marking a person's notifications; managing webhooks and preferences."""
