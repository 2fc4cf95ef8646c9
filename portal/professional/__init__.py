"""Professionals: profiles and their dashboard (guest access arrives with grants)."""
