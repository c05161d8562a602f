"""The link outcomes and observer interface, defined in ``smsgw.domain.outcomes`` so that the
pipeline (which may not import ``net``) and the links share one set of classes."""

from smsgw.domain.outcomes import LinkObserver, Refused, Requeue, SendOutcome, Submitted, Throttled

__all__ = ["LinkObserver", "Refused", "Requeue", "SendOutcome", "Submitted", "Throttled"]
