"""The agenda's tables: bookings, the (counter, cell) items they take, and the people who book.

Taking a slot is one DynamoDB transaction: a conditional update per cell (fewer citizens than the office's capacity,
not blocked by staff) and the booking's conditional put. Cancelling, releasing and moving change the booking and
its cells in one transaction too, so a slot is never lost nor given twice (DESIGN.md: slots are transactions)."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import cache

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.domain import agenda as rules
from chalicelib.domain.agenda import Booking, Occupancy
from chalicelib.store.models import AgendaPersonModel, BookingModel, SlotCellModel, _region

HISTORY_MAX = 30  # changes kept on a booking: bounded whatever staff and citizen do
BLOCK_BATCH = 25


class SlotTaken(Exception):
    """Somebody else took (or staff blocked) a cell of the slot first."""


class CodeTaken(Exception):
    """The random booking code is in use: draw another."""


class Changed(Exception):
    """The booking is no longer as read (cancelled, moved, ...)."""


def slot_key(tenant_id: str, office: str, counter: str) -> str:
    return f"{tenant_id}#{office}#{counter}"


def day_key(tenant_id: str, office: str, day: date | str) -> str:
    return f"{tenant_id}#{office}#{day if isinstance(day, str) else day.isoformat()}"


def person_key(tenant_id: str, person: str) -> str:
    return f"{tenant_id}#{person}"


@cache
def _connection() -> Connection:
    """One connection for the transactions (a botocore client is costly to build, and thread-safe to share)."""
    return Connection(region=_region())


def _cell_expiry(cell: str) -> datetime:
    return rules.at(cell) + timedelta(days=2)  # a cell matters until its day is over


def occupancy(tenant_id: str, office: str, counters: Iterable[str], first: date, last: date) -> Occupancy:
    """The cells counters hold from first to last (inclusive): one query per counter."""
    taken: dict[tuple[str, str], int] = {}
    blocked: set[tuple[str, str]] = set()
    for counter in counters:
        for item in SlotCellModel.query(slot_key(tenant_id, office, counter),
                                        SlotCellModel.cell.between(first.isoformat(), f"{last.isoformat()}T99")):
            if item.blocked:
                blocked.add((counter, item.cell))
            if item.taken:
                taken[(counter, item.cell)] = int(item.taken)
    return Occupancy(taken=taken, blocked=frozenset(blocked))


def _take_cells(transaction: TransactWrite, tenant_id: str, office: str, counter: str, cells: Iterable[str],
                capacity: int) -> None:
    for cell in cells:
        model = SlotCellModel(slot_key(tenant_id, office, counter), cell)
        transaction.update(model, actions=[SlotCellModel.taken.add(1),
                                           SlotCellModel.expires_at.set(_cell_expiry(cell))],
                           condition=(SlotCellModel.taken.does_not_exist() | (SlotCellModel.taken < capacity))
                           & SlotCellModel.blocked.does_not_exist())


def _free_cells(transaction: TransactWrite, booking: Booking) -> None:
    for cell in booking.cells:
        model = SlotCellModel(slot_key(booking.tenant_id, booking.office, booking.counter), cell)
        transaction.update(model, actions=[SlotCellModel.taken.add(-1)], condition=SlotCellModel.taken > 0)


def _reasons(error: TransactWriteError) -> list[str | None]:
    return [getattr(r, "code", None) if r is not None else None for r in (error.cancellation_reasons or [])]


def create(booking: Booking, capacity: int, retention_days: int) -> None:
    """Take the booking's cells and write it, as one transaction: SlotTaken when a cell is full or blocked,
    CodeTaken when the code is in use."""
    model = _model(booking, retention_days)
    try:
        with TransactWrite(connection=_connection()) as transaction:
            _take_cells(transaction, booking.tenant_id, booking.office, booking.counter, booking.cells, capacity)
            transaction.save(model, condition=BookingModel.booking_id.does_not_exist())
    except TransactWriteError as error:
        reasons = _reasons(error)
        if any(r == "ConditionalCheckFailed" for r in reasons[:len(booking.cells)]):
            raise SlotTaken() from None
        if reasons and reasons[-1] == "ConditionalCheckFailed":
            raise CodeTaken() from None
        raise


def _entry(at: datetime, action: str, by: str) -> dict:
    return {"at": at.isoformat(), "action": action, "by": by}


def finish(booking: Booking, status: str, at: datetime, by: str) -> Booking:
    """Cancel or release a booking (its cells freed in the same transaction), or record its attendance (attended,
    no_show: the cells stay as they were, the time is past). Changed when it is no longer booked."""
    after = replace(booking, status=status, changed_at=at, due_at=None, due_action=None,
                    history=(*booking.history, _entry(at, status, by))[-HISTORY_MAX:])
    model = BookingModel(booking.tenant_id, booking.code)
    actions = [BookingModel.status.set(status), BookingModel.changed_at.set(at),
               BookingModel.history.set(list(after.history)), BookingModel.due_bucket.remove(),
               BookingModel.due_at.remove(), BookingModel.due_action.remove()]
    condition = BookingModel.status == "booked"
    try:
        with TransactWrite(connection=_connection()) as transaction:
            if status in ("cancelled", "released"):
                _free_cells(transaction, booking)
            transaction.update(model, actions=actions, condition=condition)
    except TransactWriteError as error:
        raise Changed() from error
    return after


def move(booking: Booking, slot: rules.Slot, end: str, capacity: int, at: datetime, by: str,
         due: tuple[datetime | None, str | None], retention_days: int) -> Booking:
    """Move a booking to another slot: the old cells freed, the new taken, the booking changed, in one transaction.
    SlotTaken when the new slot is gone; Changed when the booking changed meanwhile."""
    after = replace(booking, start=slot.start, end=end, counter=slot.counter, cells=slot.cells, changed_at=at,
                    reminded_at=None, confirmed=False, due_at=due[0], due_action=due[1],
                    history=(*booking.history, _entry(at, f"moved from {booking.start}", by))[-HISTORY_MAX:])
    model = BookingModel(booking.tenant_id, booking.code)
    values = _model(after, retention_days)
    actions = [BookingModel.start.set(after.start), BookingModel.end.set(end), BookingModel.counter.set(slot.counter),
               BookingModel.cells.set(list(slot.cells)), BookingModel.changed_at.set(at),
               BookingModel.day_key.set(values.day_key), BookingModel.reminded_at.remove(),
               BookingModel.confirmed.set(False), BookingModel.history.set(list(after.history)),
               BookingModel.expires_at.set(values.expires_at), *_due_actions(after)]
    try:
        with TransactWrite(connection=_connection()) as transaction:
            _free_cells(transaction, booking)
            _take_cells(transaction, booking.tenant_id, booking.office, slot.counter, slot.cells, capacity)
            transaction.update(model, actions=actions, condition=(BookingModel.status == "booked")
                               & (BookingModel.start == booking.start) & (BookingModel.counter == booking.counter))
    except TransactWriteError as error:
        reasons = _reasons(error)
        freed = len(booking.cells)
        if any(r == "ConditionalCheckFailed" for r in reasons[freed:freed + len(slot.cells)]):
            raise SlotTaken() from None
        raise Changed() from error
    return after


def _due_actions(booking: Booking) -> list:
    if booking.due_at is None:
        return [BookingModel.due_bucket.remove(), BookingModel.due_at.remove(), BookingModel.due_action.remove()]
    return [BookingModel.due_bucket.set(_bucket(booking.due_at)), BookingModel.due_at.set(_stamp(booking.due_at)),
            BookingModel.due_action.set(booking.due_action)]


def _bucket(moment: datetime) -> str:
    return moment.astimezone(rules.ROME).date().isoformat()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(rules.ROME).isoformat(timespec="seconds")


def update(booking: Booking, at: datetime, action: str, by: str, **changes) -> Booking:
    """Change fields of a booked booking (confirmed, reminded_at, must_confirm, due): Changed when no longer booked
    or already changed the same way."""
    after = replace(booking, **changes, changed_at=at,
                    history=(*booking.history, _entry(at, action, by))[-HISTORY_MAX:])
    actions = [BookingModel.changed_at.set(at), BookingModel.history.set(list(after.history)), *_due_actions(after)]
    for name in ("confirmed", "reminded_at", "must_confirm"):
        if name in changes:
            attribute = getattr(BookingModel, name)
            actions.append(attribute.set(changes[name]) if changes[name] is not None else attribute.remove())
    condition = BookingModel.status == "booked"
    if booking.due_at is not None:  # a claim: only the one who read this due moment gets it
        condition &= BookingModel.due_at == _stamp(booking.due_at)
    else:
        condition &= BookingModel.due_at.does_not_exist()
    try:
        BookingModel(booking.tenant_id, booking.code).update(actions=actions, condition=condition)
    except UpdateError as error:
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise Changed() from None
        raise
    return after


def get(tenant_id: str, code: str) -> Booking | None:
    try:
        return _booking(BookingModel.get(tenant_id, code.upper()))
    except DoesNotExist:
        return None


def of_person(tenant_id: str, person: str, since: str = "", limit: int = 100) -> list[Booking]:
    return [_booking(m) for m in BookingModel.by_person.query(
        person_key(tenant_id, person), BookingModel.start >= since, limit=limit)]


def all_of_person(tenant_id: str, person: str) -> Iterator[BookingModel]:
    yield from BookingModel.by_person.query(person_key(tenant_id, person))


def of_day(tenant_id: str, office: str, day: date) -> list[Booking]:
    return [_booking(m) for m in BookingModel.by_day.query(day_key(tenant_id, office, day))]


def due(now: datetime, days_back: int = 2) -> Iterator[Booking]:
    """Bookings whose reminder or release is due by now, over every tenant (the schedule)."""
    today = now.astimezone(rules.ROME).date()
    for back in range(days_back, -1, -1):
        bucket = (today - timedelta(days=back)).isoformat()
        for model in BookingModel.due.query(bucket, BookingModel.due_at <= _stamp(now)):
            yield _booking(model)


def block(tenant_id: str, office: str, counter: str, cells: Iterable[str]) -> None:
    """Mark cells as blocked by staff: no booking takes them from now on."""
    with SlotCellModel.batch_write() as batch:
        for cell in cells:
            item = _cell_or_new(tenant_id, office, counter, cell)
            item.blocked = True
            item.expires_at = _cell_expiry(cell)
            batch.save(item)


def _cell_or_new(tenant_id: str, office: str, counter: str, cell: str) -> SlotCellModel:
    try:
        return SlotCellModel.get(slot_key(tenant_id, office, counter), cell)
    except DoesNotExist:
        return SlotCellModel(slot_key(tenant_id, office, counter), cell, taken=0)


def erase(tenant_id: str, code: str) -> None:
    BookingModel(tenant_id, code).delete()


# ---- people ---------------------------------------------------------------------------------------------


def person(tenant_id: str, who: str) -> AgendaPersonModel | None:
    try:
        return AgendaPersonModel.get(tenant_id, who)
    except DoesNotExist:
        return None


def save_person(model: AgendaPersonModel, expires_at: datetime | None) -> None:
    model.expires_at = expires_at
    model.save()


def count_no_show(tenant_id: str, who: str, at: datetime, expires_at: datetime) -> None:
    AgendaPersonModel(tenant_id, who).update(actions=[
        AgendaPersonModel.no_shows.add(1), AgendaPersonModel.updated_at.set(at),
        AgendaPersonModel.expires_at.set(expires_at)])


def erase_person(tenant_id: str, who: str) -> None:
    AgendaPersonModel(tenant_id, who).delete()


# ---- mapping ------------------------------------------------------------------------------------------


def _model(booking: Booking, retention_days: int) -> BookingModel:
    model = BookingModel(
        booking.tenant_id, booking.code, office=booking.office, counter=booking.counter, service=booking.service,
        start=booking.start, end=booking.end, cells=list(booking.cells), status=booking.status,
        person_key=person_key(booking.tenant_id, booking.person), phone=booking.phone, user_id=booking.user_id,
        channel_id=booking.channel_id, name=booking.name, note=booking.note, source=booking.source,
        created_at=booking.created_at, changed_at=booking.changed_at, confirmed=booking.confirmed,
        must_confirm=booking.must_confirm, reminded_at=booking.reminded_at,
        day_key=day_key(booking.tenant_id, booking.office, booking.start[:10]), history=list(booking.history),
        expires_at=rules.at(booking.end) + timedelta(days=retention_days))
    if booking.due_at is not None:
        model.due_bucket, model.due_at, model.due_action = (_bucket(booking.due_at), _stamp(booking.due_at),
                                                            booking.due_action)
    return model


def _booking(model: BookingModel) -> Booking:
    return Booking(
        tenant_id=model.tenant_id, code=model.booking_id, office=model.office, counter=model.counter,
        service=model.service, start=model.start, end=model.end, cells=tuple(model.cells or ()),
        person=model.person_key.split("#", 1)[1], source=model.source, created_at=model.created_at,
        status=model.status, name=model.name, phone=model.phone, user_id=model.user_id, channel_id=model.channel_id,
        note=model.note, confirmed=bool(model.confirmed), must_confirm=bool(model.must_confirm),
        reminded_at=model.reminded_at, changed_at=model.changed_at,
        due_at=datetime.fromisoformat(model.due_at) if model.due_at else None, due_action=model.due_action,
        history=tuple(model.history or ()))

