"""The event store a ledger saves through: the library's `EventStore`, with a save's events
sealed together and the case keys they made stored in the events' own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import EventStore, Notification, Recording

from .base import frozen_made
from .case_keys import NEW_KEYS
from .sealing import SealingMapper


class SealingEventStore(EventStore[UUID]):
    """The library's event store, making the keys a save needs in one transaction first and
    sealing each event once (`SealingMapper.to_stored_events`)."""

    def put(self, domain_events: Sequence[Any], **kwargs: Any) -> list[Recording[UUID]]:
        if not isinstance(self.mapper, SealingMapper):
            return super().put(domain_events, **kwargs)
        # The library's put, with the events mapped together (`to_stored_events`) and the
        # case keys they made stored by the recorder in the events' own transaction.
        stored_events, new_keys = self.mapper.to_stored_events(domain_events)
        if new_keys is not None:
            kwargs[NEW_KEYS] = new_keys
        notification_ids = self.recorder.insert_events(stored_events, **kwargs)
        if new_keys is not None:
            new_keys.committed()
        if not notification_ids:
            return []
        assert len(notification_ids) == len(stored_events)
        # The library's Recording and Notification (frozen dataclasses), made as their
        # constructors make them at a third of the cost (`frozen_made`): one an event saved.
        return [frozen_made(Recording, {"domain_event": d, "notification": frozen_made(
                    Notification, {"originator_id": s.originator_id,
                                   "originator_version": s.originator_version,
                                   "topic": s.topic, "state": s.state, "id": n_id})})
                for d, s, n_id in zip(domain_events, stored_events, notification_ids,
                                      strict=True)]
