"""Sending: every outbound job, paced per channel, with one recorded result per recipient (outbound, pacing),
retry waits (backoff), and how a running broadcast ends once its recipients are settled (progress)."""
