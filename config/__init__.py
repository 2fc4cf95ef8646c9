"""Settings for the portal: defaults in one typed place, overridden by PORTAL_* variables."""

from config.settings import OIDCProvider, Settings, SettingsError

__all__ = ["OIDCProvider", "Settings", "SettingsError"]
