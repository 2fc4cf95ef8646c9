"""Cross-cutting pieces: clock, sanitizer, security headers, errors, i18n, mail, tokens."""
