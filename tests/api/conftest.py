"""Fixtures for the API tests: an anonymous API client and signed-in ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.auth.models import User
from tests.api.client import Api, signed_in_api


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


@pytest.fixture
def api_for(app: Flask) -> Callable[..., Api]:
    """A fresh client signed in as `user` through POST /api/v1/session."""

    def make(user: User, **kwargs: Any) -> Api:
        return signed_in_api(app, user, **kwargs)

    return make
