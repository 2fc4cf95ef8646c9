"""API routes in the authorization matrix; filled in as the API grows (see tests/api)."""

from __future__ import annotations

API_ROUTES: dict[tuple[str, str], object] = {
    ("/api/v1/openapi.json", "GET"): None,
}
