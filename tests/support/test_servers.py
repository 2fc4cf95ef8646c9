"""Self-test for the real test servers: each one starts, does real work, and cleans up."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import psycopg
import pytest
import redis
import requests

from tests.support.servers import (
    OidcProvider,
    PostgresServer,
    RedisServer,
    SmtpServer,
    find_link,
    wait_until,
)


def assert_cleaned_up(server: PostgresServer | SmtpServer | OidcProvider | RedisServer) -> None:
    assert server.process is None
    assert not server.folder.exists()


def test_postgres() -> None:
    with PostgresServer() as server:
        assert server.url == f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/portal_test"
        with psycopg.connect(server.connect_args("portal_test")) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
            assert conn.execute("show server_encoding").fetchone() == ("UTF8",)
        other = server.create_database("second")
        assert other.endswith(f":{server.port}/second")
        with psycopg.connect(server.connect_args("second")) as conn:
            assert conn.execute("select current_database()").fetchone() == ("second",)
    assert_cleaned_up(server)


def test_smtp() -> None:
    with SmtpServer() as server:
        for n in (1, 2):
            mail = EmailMessage()
            mail["From"] = "portal@example.org"
            mail["To"] = f"user{n}@example.org"
            mail["Subject"] = f"Bevestig je account {n} – één klik"
            mail.set_content(f"Klik op https://portal.example/verify/tok{n}.\nGroet")
            with smtplib.SMTP(server.host, server.port, timeout=5) as client:
                client.send_message(mail, to_addrs=[mail["To"], "hidden@example.org"])

        second = server.wait_for(lambda m: m["To"] == "user2@example.org")
        assert second["Subject"] == "Bevestig je account 2 – één klik"
        assert second["X-RcptTo"] == "user2@example.org, hidden@example.org"
        assert find_link(second, "https://portal.example/verify/") == (
            "https://portal.example/verify/tok2"
        )
        assert [m["To"] for m in server.messages()] == ["user1@example.org", "user2@example.org"]

        server.clear()
        assert server.messages() == []
        with pytest.raises(AssertionError, match="seen: \\[\\]"):
            server.wait_for(lambda m: True, timeout=0.2)
    assert_cleaned_up(server)


def test_oidc_provider() -> None:
    with OidcProvider() as provider, requests.Session() as browser:
        discovery = browser.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=5)
        config = discovery.json()
        assert config["issuer"] == provider.issuer
        assert config["authorization_endpoint"] == f"{provider.issuer}/oauth2/authorize"

        redirect_uri = "http://localhost/callback"
        params = {
            "client_id": "portal",
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "openid email profile",
            "state": "s-1",
            "nonce": "n-1",
        }
        authorize_url = f"{config['authorization_endpoint']}?{urlencode(params)}"
        claims = {"email": "coach@cjg.example", "name": "Coach", "org": "cjg"}
        location = provider.authorize(browser, authorize_url, "coach-1", claims)
        assert location.startswith(redirect_uri + "?")
        query = parse_qs(urlsplit(location).query)
        assert query["state"] == ["s-1"]

        # The claims set above really reach the client through the token and userinfo.
        token = browser.post(
            config["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": redirect_uri,
            },
            auth=("portal", "any-secret-is-accepted"),
            timeout=5,
        )
        assert token.status_code == 200, token.text
        userinfo = browser.get(
            config["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=5,
        ).json()
        assert userinfo == {"sub": "coach-1", **claims}

        denied = provider.deny(browser, authorize_url)
        assert parse_qs(urlsplit(denied).query)["error"] == ["access_denied"]
    assert_cleaned_up(provider)


def test_redis() -> None:
    with RedisServer() as server, redis.Redis.from_url(server.url) as client:
        client.set("greeting", "hallo")
        assert client.get("greeting") == b"hallo"
    assert_cleaned_up(server)


def test_wait_until_reports_the_log_tail(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("FATAL: something broke\n")
    with pytest.raises(RuntimeError, match="did not come up within 0.1s\nFATAL: something"):
        wait_until(lambda: False, "thing", log, timeout=0.1)
