"""Who is asking: server-side sessions, CSRF settings, signed form tokens and the customer."""
