"""Sign-in for browser tests: a real OpenID Connect flow against a mock identity provider.

The app signs people in with Streamlit's own OIDC support (`[auth]` in secrets.toml,
`st.login()`, `st.user`, `st.logout()`). These helpers let a browser test go through
that flow for real, with no network: `oidc-provider-mock` plays the identity provider
on 127.0.0.1, and Chromium clicks through its sign-in form as a person clicks through
Google's.

Typical use::

    with identity_provider() as provider:
        add_user(provider, "alice", name="Alice", email="alice@example.com")
        secrets = auth_secrets(tmp_path, None, provider)  # "{port}": any app port
        port = free_port()
        # start `streamlit run app.py --server.port <port> --secrets.files <secrets>`
        page.goto(f"http://127.0.0.1:{port}")  # the host of redirect_uri, see below
        sign_in(page, "alice")
        ...
        sign_out(page)

What a test must respect:

* The browser must open the app at http://127.0.0.1:<port>, the very origin of
  `redirect_uri` (never "localhost"): `st.login()` keeps its OAuth state in a cookie
  of the host the app was opened at, and the provider sends the browser back to the
  host of `redirect_uri`. Opened at "localhost", the callback finds no state, the
  person stays signed out and the log says "Missing provider for OAuth callback".
  (Streamlit's websocket also accepts the user cookie only from the origin of
  `redirect_uri`; else it logs "Origin mismatch".)
* Each Playwright browser context has its own cookies, hence its own signed-in person:
  two contexts can be two people at once.
* After the callback, Streamlit lands on the app's root ("/"), without the page path
  or query string the person signed in from.
* The mock keeps no session: every `st.login()` shows its form again, and
  `st.logout()` leads through its "End session" page (which `sign_out` clicks).
  Streamlit sends the browser back from there to `/oauth2callback` without a `state`,
  and logs one line, "Missing provider for OAuth callback; this often indicates a stale
  or replayed callback...": a test that wants a quiet server log must allow that line
  after a sign-out (see `LOGOUT_LOG_LINE`), or sign out with
  `sign_out(page, end_provider_session=False)`.
* Streamlit loads the provider's metadata at every sign-in and sign-out: the provider
  must outlive the app's server (enter `identity_provider()` first).
* Authlib 1.9 without the `httpx2` package prints "AuthlibDeprecationWarning: The httpx
  module is deprecated; please use httpx2 instead." (two lines) into the server's log
  at the first sign-in; with `httpx2` installed beside it, that log stays quiet.
* No AUTHLIB_INSECURE_TRANSPORT is needed: Authlib takes http on a loopback address
  for secure.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import threading
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Iterator
from urllib.parse import quote

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

HOST = "127.0.0.1"
# Any client is welcome at the mock (no registration), so these are arbitrary.
CLIENT_ID = "mnist-playground-tests"
CLIENT_SECRET = "mnist-playground-tests-secret"
# Streamlit fills in "{port}" with its own server.port (auth_util.get_redirect_uri).
REDIRECT_URI = f"http://{HOST}:{{port}}/oauth2callback"
SIGN_IN_TIMEOUT_MS = 30_000
# What Streamlit logs when the provider sends the browser back after a sign-out.
LOGOUT_LOG_LINE = "Missing provider for OAuth callback"


def free_port() -> int:
    """A port free on 127.0.0.1 now, for a server started right after (a small race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def identity_provider() -> Iterator[str]:
    """The mock OIDC provider on 127.0.0.1 on a free port; yields its URL (the issuer).

    It runs in a thread of the test process (werkzeug, as the mock's own
    `run_server_in_thread` does, but bound to 127.0.0.1 rather than "localhost", which
    may resolve to ::1 first). Binding port 0 leaves no race for the port. Users and
    tokens live in its memory and are gone once it stops.
    """
    import oidc_provider_mock
    import werkzeug.serving

    class QuietHandler(werkzeug.serving.WSGIRequestHandler):
        """No line per request in the test output; errors are still printed."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass

    server = werkzeug.serving.make_server(
        HOST, 0, oidc_provider_mock.app(), threaded=True, request_handler=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="oidc-provider-mock", daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def add_user(provider_url: str, sub: str, *, name: str, email: str) -> None:
    """Give the person `sub` a name and an email at the provider (its `PUT /users/<sub>`).

    Someone signed in without this gets only `email` = `sub` (and no name).
    `name` comes with the "profile" scope and `email` with the "email" scope, both of
    which Streamlit asks for ("openid email profile"). `sub` may hold spaces or "@",
    not "/".
    """
    if "/" in sub:  # the mock's route `/users/<sub>` takes no slash, even as %2F
        raise ValueError(f"the mock provider cannot store a subject with '/': {sub!r}")
    body = json.dumps({"name": name, "email": email}).encode()
    request = urllib.request.Request(
        f"{provider_url}/users/{quote(sub, safe='')}", data=body, method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 204:
            raise RuntimeError(f"the provider refused user {sub!r}: HTTP {response.status}")


def auth_secrets(folder: Path, app_port: int | None, provider_url: str) -> Path:
    """Write `folder/secrets.toml` with the provider as the default `[auth]`; its path.

    Pass it to the app as `--secrets.files <path>` (this replaces the project's and the
    user's secrets.toml). With `app_port=None` the redirect URI keeps Streamlit's
    "{port}" placeholder, so the file can be written before the app's port is known.
    The cookie secret is random and long: Streamlit warns about one under 14 bytes.
    """
    redirect_uri = REDIRECT_URI if app_port is None else REDIRECT_URI.format(port=app_port)
    values = {
        "redirect_uri": redirect_uri,
        "cookie_secret": secrets.token_urlsafe(32),
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "server_metadata_url": f"{provider_url}/.well-known/openid-configuration",
    }
    # json.dumps writes a valid TOML basic string for these ASCII values.
    lines = ["[auth]", *(f"{key} = {json.dumps(value)}" for key, value in values.items())]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secrets.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def sign_in(page: Page, sub: str, button: Locator | None = None) -> None:
    """Sign in as `sub`: a "Sign in" button (the sidebar's unless `button` says which),
    the provider's form, back to the app.

    The app's button calls `st.login()`, which sends the browser to the provider; there
    the person types their subject and clicks "Authorize". Returns once the app is back
    and its sidebar says "Signed in as".
    """
    from playwright.sync_api import expect

    if button is None:
        button = page.get_by_test_id("stSidebar").get_by_role("button", name="Sign in",
                                                              exact=True)
    button.click()
    form_field = page.locator('input[name="sub"]')
    form_field.wait_for(timeout=SIGN_IN_TIMEOUT_MS)
    form_field.fill(sub)
    page.get_by_role("button", name="Authorize", exact=True).click()
    expect(page.get_by_test_id("stSidebar").get_by_text("Signed in as")).to_be_visible(
        timeout=SIGN_IN_TIMEOUT_MS
    )


def sign_out(page: Page, *, end_provider_session: bool = True) -> None:
    """Sign out: the sidebar's "Sign out", the provider's "End session", back to the app.

    The app's button calls `st.logout()`: Streamlit clears its cookies and sends the
    browser to the provider's end-session page, whose button sends it back to the
    app (through `/oauth2callback`, which logs `LOGOUT_LOG_LINE`). With
    `end_provider_session=False` the browser goes straight back to the app's root from
    that page instead, as a person closing it would: the sign-out is as complete (the
    mock keeps no session) and the server's log stays quiet. Returns once the sidebar
    offers "Sign in" again.
    """
    from urllib.parse import urlsplit

    from playwright.sync_api import expect

    app = urlsplit(page.url)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("button", name="Sign out", exact=True).click()
    end_session = page.get_by_role("button", name="End session", exact=True)
    end_session.wait_for(timeout=SIGN_IN_TIMEOUT_MS)
    if end_provider_session:
        end_session.click()
    else:
        page.goto(f"{app.scheme}://{app.netloc}/")
    expect(
        page.get_by_test_id("stSidebar").get_by_role("button", name="Sign in", exact=True)
    ).to_be_visible(timeout=SIGN_IN_TIMEOUT_MS)
