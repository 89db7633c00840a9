"""Filo Diretto: a WhatsApp direct line between an Italian comune and its citizens."""
