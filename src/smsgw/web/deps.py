"""What the web centre's pages share: the store, the intake, sessions, lockout, templates."""

from __future__ import annotations

from datetime import timezone
from typing import Any, Mapping

import attrs

from smsgw.policy.lockout import Lockout
from smsgw.web.api import KeyCache
from smsgw.web.render import Renderer
from smsgw.web.sending import Sender
from smsgw.web.sessions import Sessions


@attrs.define
class Deps:
    store: Any  # pipeline.storage.StoreClient
    intake: Any  # pipeline.intake.Intake
    reactor: Any  # IReactorTime + IReactorThreads
    sender: Sender
    sessions: Sessions
    lockout: Lockout
    #: provider administrators: name → argon2 hash (the manhole's users)
    admins: Mapping[str, str]
    renderer: Renderer
    keys: KeyCache
    tz: timezone
    #: the policy service (``pipeline.policies.PolicyService``): reviews and per-account rules go
    #: through it, as from the manhole; None without policies
    policies: Any = None

    def now_ms(self) -> int:
        return int(self.reactor.seconds() * 1000)
