"""I/O of the notification service: PostgreSQL, Kafka, SMTP and HTTP to webhook receivers."""
