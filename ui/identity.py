"""Who is using the app, and so whose runs are whose.

The server runs in one of three modes (docs/running.md):

- **local**, the default (`streamlit run app.py`): one person on their own machine.
  Every run on disk is theirs, whichever tab or server started it.
- **accounts**: `[auth]` in `.streamlit/secrets.toml` (Streamlit's OpenID Connect
  sign-in). A run belongs to the person signed in when it started, by their
  provider's stable subject, and follows them to any browser. Training needs signing in.
- **anonymous** (`MNIST_SHARED=1`, or a server bound to an address others reach,
  without `[auth]`): a visitor's runs are those started in their browser session.

In the two shared modes a run opened by its link is shown read-only to anyone but its
owner; rename, delete and stop are refused on the server (mnist_core.runs.owners).
"""

from __future__ import annotations

import enum
import ipaddress
import os
import secrets
from dataclasses import dataclass

import streamlit as st

from mnist_core.runs.owners import LOCAL, Owner, may_change, session_owner, user_owner

SHARED_ENV = "MNIST_SHARED"
_YES, _NO = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class Mode(enum.Enum):
    LOCAL = "local"
    ACCOUNTS = "accounts"
    ANONYMOUS = "anonymous"


def server_mode() -> Mode:
    """How this server is run: by its secrets, `MNIST_SHARED`, and the address it listens on."""
    if st.secrets.load_if_toml_exists() and "auth" in st.secrets:
        return Mode.ACCOUNTS
    shared = os.environ.get(SHARED_ENV, "").strip().lower()
    if shared in _YES:
        return Mode.ANONYMOUS
    if shared in _NO:
        return Mode.LOCAL
    if shared:
        raise ValueError(f"{SHARED_ENV} must be 1 (a shared server) or 0 (one person's), "
                         f"got {os.environ[SHARED_ENV]!r}.")
    return Mode.LOCAL if _is_loopback(st.get_option("server.address")) else Mode.ANONYMOUS


def _is_loopback(address: str | None) -> bool:
    """Whether only this machine can reach the server (unset: Streamlit's own default)."""
    if not address or address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:  # a host name: others may resolve it too
        return False


@dataclass(frozen=True)
class Visitor:
    """The person behind this browser session, as far as runs are concerned."""

    owner: Owner
    mode: Mode
    signed_in: bool = False

    @property
    def by(self) -> str | None:
        """Who asks for a change, for mnist_core's checks; None locally: every run is theirs."""
        return None if self.mode is Mode.LOCAL else self.owner.id

    @property
    def may_train(self) -> bool:
        """Training needs signing in where the server has accounts: runs are kept by name."""
        return self.mode is not Mode.ACCOUNTS or self.signed_in

    def owns(self, owner: Owner | None) -> bool:
        """Whether a run with this owner is theirs to rename, delete or stop."""
        return may_change(owner or Owner(), self.by)


def visitor() -> Visitor:
    """Who this session is: the local person, a signed-in user, or an anonymous visitor."""
    mode = server_mode()
    if mode is Mode.LOCAL:
        return Visitor(Owner(LOCAL), mode)
    if mode is Mode.ACCOUNTS and st.user.is_logged_in:
        user = st.user.to_dict()
        name = user.get("name") or user.get("email") or user.get("preferred_username")
        owner = Owner(user_owner(str(user.get("iss", "")), str(user["sub"])),
                      str(name) if name else None)
        return Visitor(owner, mode, signed_in=True)
    token = st.session_state.setdefault("owner", secrets.token_hex(8))
    return Visitor(Owner(session_owner(token)), mode)


def whose(owner: Owner | None) -> str:
    """A run's owner in words, for someone else, to start a sentence: "Alice's run"."""
    if owner is not None and owner.name:
        return f"{owner.name}'s run"
    return "Another visitor's run"
