"""Conversations and live messages inside the family's space (issue: real-time messaging)."""
