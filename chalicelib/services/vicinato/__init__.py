"""Vicinato, the neighbourhood-watch relay on the safety channel (docs/vicinato.md): relay (WhatsApp), sending (to
people other than the sender), police (the desk's side), people (joining, roles), notices (through the broadcast
engine), escalation and retention (schedules), monthly (the report for the Prefettura)."""
