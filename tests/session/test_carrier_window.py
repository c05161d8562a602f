"""RequestWindow: the earliest deadline, in order and when the clock goes back; resends move to the end."""

from __future__ import annotations

import random

from smsgw.session.carrier_window import RequestWindow


def test_next_deadline_is_the_earliest_through_adds_answers_resends_and_a_clock_going_back() -> None:
    rng = random.Random(5)
    window = RequestWindow(size=None, timeout=10.0, max_sends=3)
    now = 1000.0
    sequence = 0
    for _ in range(3000):
        action = rng.random()
        if action < 0.45:
            sequence += 1
            # mostly forward; now and then the wall clock steps back
            now += rng.choice((0.0, 0.01, 0.5, 3.0)) if rng.random() > 0.02 else -rng.uniform(0.1, 20.0)
            window.add("submit", sequence, {}, b"", now)
        elif action < 0.85 and len(window):
            window.pop(rng.choice([p.sequence for p in window]))
        else:
            now += rng.uniform(0.0, 12.0)
            window.due(now)
        expected = min((p.deadline for p in window), default=None)
        assert window.next_deadline() == expected


def test_a_resent_request_moves_behind_the_others() -> None:
    window = RequestWindow(size=4, timeout=60.0, max_sends=2)
    window.add("submit", 1, {}, b"1", 0.0)
    window.add("submit", 2, {}, b"2", 30.0)
    resend, given_up = window.due(61.0)
    assert [p.sequence for p in resend] == [1] and given_up == []
    assert [p.sequence for p in window] == [2, 1]
    assert window.next_deadline() == 90.0
    resend, given_up = window.due(125.0)
    assert [p.sequence for p in resend] == [2] and [p.sequence for p in given_up] == [1]
    assert window.next_deadline() == 185.0
