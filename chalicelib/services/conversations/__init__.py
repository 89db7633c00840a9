"""Two-way conversations ("Messaggi"): what citizens write that no flow consumed, and staff's answers."""
