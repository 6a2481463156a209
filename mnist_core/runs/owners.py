"""Whose run is whose: an owner saved with each run, and who may change a run.

An owner's id is a plain string saved in the run's `run.json`:

- `LOCAL`: the one person of an app on their own machine, and the command line;
- `user_owner(issuer, subject)`: a signed-in person, by their identity provider's
  stable subject (an e-mail address or a name can change, the subject does not);
- `session_owner(token)`: a visitor of a shared server who has not signed in, for as
  long as their browser session lasts.

A run saved before runs had owners is the local person's. Who may *see* a run is the
app's affair (a link is a run's share key); who may *change* it (rename, delete, stop)
is checked here, where the change is made, not only by hiding a button.
"""

from __future__ import annotations

from dataclasses import dataclass

from mnist_core.runs.errors import StoreError

LOCAL = "local"


@dataclass(frozen=True)
class Owner:
    """Who a run belongs to: `id` decides, `name` is how others are told whose it is."""

    id: str = LOCAL
    name: str | None = None


def user_owner(issuer: str, subject: str) -> str:
    """A signed-in person's owner id: the provider's issuer and its subject for them."""
    return f"user:{issuer} {subject}"


def session_owner(token: str) -> str:
    """An anonymous visitor's owner id, good for one browser session."""
    return f"session:{token}"


class NotYourRun(StoreError):
    """Someone tried to change a run that belongs to someone else."""


def may_change(owner: Owner, by: str | None) -> bool:
    """Whether `by` may rename, delete or stop a run of `owner`.

    `by` None: no one to check (the local app, the command line): every run is theirs.
    """
    return by is None or by == owner.id


def check_may_change(run_id: str, owner: Owner, by: str | None, action: str) -> None:
    """Raise NotYourRun unless `by` may `action` ("rename", "delete", "stop") this run."""
    if not may_change(owner, by):
        whose = f"{owner.name}'s" if owner.name else "someone else's"
        raise NotYourRun(f"Run {run_id} is {whose}: only they can {action} it.")
