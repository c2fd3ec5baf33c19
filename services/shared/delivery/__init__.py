"""Delivering messages to people: the channels (e-mail over SMTP, signed webhooks, an SMS gateway),
their settings, retries with backoff, and the engine that sends a service's recorded deliveries once
each. The notifications service delivers pages and notices to staff with it; the complaints service,
which alone holds customers' contact, delivers CSAT surveys with it."""
