"""SLA service: policies, business calendars and holidays; SLA timers, warnings and breaches."""
