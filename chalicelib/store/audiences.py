"""Counts of active subscribers per channel and cell (domain.audiences), one small partition per channel."""
from __future__ import annotations

from pynamodb.exceptions import UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.store.models import AudienceCellModel

MAX_CELLS = 2000  # read per channel at most: far more combinations than a comune's subscribers choose


def cells(channel_id: str) -> dict[str, int]:
    """The channel's counts per cell: one Query of a partition of a few dozen small items."""
    return {m.cell: int(m.count or 0)
            for m in AudienceCellModel.query(channel_id, limit=MAX_CELLS, page_size=500)}


def move(transaction: TransactWrite, channel_id: str, moves: dict[str, int]) -> None:
    """Add the moves (cell -> +1 or -1) to the transaction that changes the subscriber (atomic ADDs)."""
    for cell, step in moves.items():
        transaction.update(AudienceCellModel(channel_id, cell), actions=[AudienceCellModel.count.add(step)])


def correct(channel_id: str, cell: str, expected: int, counted: int) -> bool:
    """Set a cell to its recount, only if it still holds what was read before the recount (a conditional write):
    False when a subscription change moved it meanwhile (the next reconciliation looks again)."""
    was = AudienceCellModel.count == expected if expected else AudienceCellModel.count.does_not_exist() | (
        AudienceCellModel.count == 0)
    try:
        AudienceCellModel(channel_id, cell).update(actions=[AudienceCellModel.count.set(counted)], condition=was)
        return True
    except UpdateError as error:
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
