"""Every write of the contact center (tickets, SLA settings, the FAQ)."""
