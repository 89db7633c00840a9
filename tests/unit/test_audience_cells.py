"""Audience cells (domain.audiences): every active subscriber in exactly one cell, an audience the sum of the cells
it includes, so a subscriber in two chosen hamlets or topics counts once."""
from __future__ import annotations

import itertools
import random

from chalicelib.domain import audiences
from chalicelib.domain.broadcasts import Audience

HAMLETS, TOPICS = ("colle", "piano", "borgo"), ("strade", "scuole")


def subsets(items):
    return [tuple(c) for n in range(len(items) + 1) for c in itertools.combinations(items, n)]


def test_a_cell_is_the_exact_choice_in_any_order_and_none_when_not_active():
    assert audiences.cell_of(True, ["piano", "colle"], []) == audiences.cell_of(True, ("colle", "piano"), ()) \
        == "h=colle,piano|t="
    assert audiences.cell_of(False, ["colle"], []) is None
    assert audiences.choice_of("h=colle,piano|t=scuole") == (("colle", "piano"), ("scuole",))
    assert audiences.choice_of("h=|t=") == ((), ())


def test_moves_of_one_change():
    assert audiences.moves(None, "h=|t=") == {"h=|t=": 1}
    assert audiences.moves("h=colle|t=", None) == {"h=colle|t=": -1}
    assert audiences.moves("h=colle|t=", "h=piano|t=") == {"h=colle|t=": -1, "h=piano|t=": 1}
    assert audiences.moves("h=colle|t=", "h=colle|t=") == {}


def test_every_audience_counts_each_subscriber_once_as_a_one_by_one_count_does():
    rng = random.Random(18)
    people = [(rng.random() < 0.8, rng.choice(subsets(HAMLETS)), rng.choice(subsets(TOPICS))) for _ in range(500)]
    cells = audiences.tally(people)
    assert sum(cells.values()) == sum(1 for active, _, _ in people if active)
    for hamlets, topics in itertools.product(subsets(HAMLETS), subsets(TOPICS)):
        audience = Audience(hamlets, topics)
        expected = sum(1 for active, h, t in people if active and audience.includes(h, t))
        assert audiences.count(audience, cells) == expected, (hamlets, topics)


def test_drift_names_only_the_cells_that_differ():
    assert audiences.drift({"a": 2, "b": 1}, {"a": 2, "c": 4}) == {"b": -1, "c": 4}
    assert audiences.drift({"a": 2}, {"a": 2}) == {}
