"""Uploaded files (message attachments, later dossier attachments): checked by content, stored
in the database with the family's other data, served only as downloads with safe headers."""
