"""What the local stack changes in moto 5.2: DynamoDB's atomic writes, which moto's threaded server does not keep,
and costs that AWS does not have (whole-queue scans in SQS, whole-table sorts and copies in DynamoDB) and that
made local measures of the app measures of moto. Answers stay moto's; make dev, the tests and the benchmarks all run
with these (apply), in-process or in moto's own processes (local/motoserver.py)."""
from __future__ import annotations

import threading


def apply() -> None:
    """Every change below, once per process."""
    speed_up_moto()
    atomic_dynamodb()
    light_transactions()
    sqs_groups_read_whole()


def atomic_dynamodb() -> None:
    """DynamoDB applies each request to an item as one step: a conditional write's condition, its ReturnValues and its
    update see the same item, and no other write lands in between. moto's server answers requests on many threads
    and applies none of them under a lock: it copies the item (for ALL_OLD), evaluates the condition and updates the
    item in separate steps, so under load two conditional writes to one item interleave. Both of two consumers then
    took a job's lease, or a take read the claims a settling run was removing and found the lease it gave back free:
    two runs counted the same results (five outcomes for four recipients, a broadcast completed early). One lock
    over moto's DynamoDB requests gives back DynamoDB's guarantee; they are CPU-bound Python under the GIL anyway."""
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    if getattr(original, "filo_atomic", False):
        return
    lock = threading.RLock()

    def call_action(self):
        with lock:
            return original(self)

    call_action.filo_atomic = True
    DynamoHandler.call_action = call_action


def sqs_groups_read_whole() -> None:
    """moto 5.2's SQS receive lists the message groups in flight by iterating the set of pending messages while
    other requests' threads add and remove from it: under a status flood one receive in a few thousand failed with
    "Set changed size during iteration" (a 500, which botocore retries). It reads a copy of the set, taken in one
    step under the GIL."""
    from moto.sqs.models import Queue

    if getattr(Queue, "filo_groups_whole", False):
        return
    Queue.pending_message_groups = property(
        lambda queue: {m.group_id for m in list(queue._pending_messages) if m.group_id is not None})
    Queue.filo_groups_whole = True


def light_transactions() -> None:
    """moto 5.2's TransactWriteItems deep-copies every table a transaction touches before it starts, to roll back on a
    failed condition: with a channel's 50,000 subscribers in the citizens table, each subscription change (a
    transaction with its audience counts, issue 18) copied them all, and a transaction cost seconds. Under the lock
    of atomic_dynamodb nothing else runs meanwhile, so keeping a copy of just the items the transaction names is the
    same rollback: those are restored (or removed again) when it is cancelled."""
    import copy as real_copy
    import types

    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items
    if getattr(original, "filo_light", False):
        return
    models.copy = types.SimpleNamespace(  # the module's deepcopy, without the whole-table copies
        deepcopy=lambda value, *args: value if isinstance(value, Table) else real_copy.deepcopy(value, *args))

    def transact_write_items(self, transact_items):
        saved = []
        for entry in transact_items:
            try:
                _, op = next(iter(entry.items()))
                table = self.get_table(op["TableName"])
                attrs = op["Item"] if "Item" in op else op["Key"]
                hash_value = models.DynamoType(attrs[table.hash_key_attr])
                range_value = models.DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
            except Exception:  # a malformed request: the original answers it as moto does
                continue
            saved.append((table, hash_value, range_value,
                          real_copy.deepcopy(table.get_item(hash_value, range_value))))
        try:
            return original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(saved):
                if item is None:
                    table.delete_item(hash_value, range_value)
                elif range_value is not None:
                    table.items[hash_value][range_value] = item
                else:
                    table.items[hash_value] = item
            raise

    transact_write_items.filo_light = True
    models.DynamoDBBackend.transact_write_items = transact_write_items


def speed_up_moto() -> None:
    """moto 5.2's costs that AWS does not have, each below; first, the backend lookup.

    moto looks a service's backend up on every request under a global lock, scanning a list of every
    backend (moto 5.2 BackendDict._create_account_specific_backend); under load that lock and scan cost
    more than the request. Once a backend exists and is registered, the lookup can return at once."""
    from moto.core.base_backend import BackendDict

    original = BackendDict._create_account_specific_backend
    if getattr(original, "filo_fast", False):
        return

    def lookup(self, account_id: str) -> None:
        if getattr(self, "_filo_registered", False) and dict.__contains__(self, account_id):
            return
        original(self, account_id)
        self._filo_registered = True

    lookup.filo_fast = True
    BackendDict._create_account_specific_backend = lookup
    _cache_moto_module_list()
    _action_names_listed_once()
    _update_expressions_parsed_once()
    _update_trees_copied_plainly()
    _update_trees_walked_by_class()
    _conditions_parsed_once()
    _sqs_scans_once()
    _sqs_deletes_by_handle()
    _queries_read_their_partition()
    _hosts_matched_once()
    _actions_routed_once()
    _items_answered_as_json()


def _action_names_listed_once() -> None:
    """moto 5.2 lists a response class's methods (inspect.getmembers) on every request to check the action is one of
    them: ~0.2 ms of each DynamoDB and SQS call. A class's methods do not change while moto runs."""
    import functools

    from moto.core import responses

    if hasattr(responses.method_names_from_class, "cache_info"):
        return
    responses.method_names_from_class = functools.lru_cache(maxsize=None)(responses.method_names_from_class)


def _update_expressions_parsed_once() -> None:
    """moto 5.2 parses an UpdateItem's update expression twice per request (once to check its placeholders, once to
    apply it), and the app sends the same few expressions again and again: parsing was a fifth of a conditional
    write's cost (issue 18, the status flood's conditional writes). Each expression is parsed once: the tree holds
    the expression alone (names and values are bound later, on a deep copy that moto's validator takes), and it is
    only read."""
    import functools

    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    original = UpdateExpressionParser.make.__func__
    if getattr(original, "filo_cached", False):
        return
    parsed = functools.lru_cache(maxsize=512)(lambda expression: original(UpdateExpressionParser, expression))

    def make(cls, expression: str):
        return parsed(expression)

    make.filo_cached = True
    UpdateExpressionParser.make = classmethod(make)


def _update_trees_copied_plainly() -> None:
    """moto's validator takes a deep copy of each update expression's tree before binding the request's names and
    values into it: copy.deepcopy's generic walk was a tenth of a conditional write (py-spy, the status flood). A
    tree's nodes hold their type, children and parent alone, and a parsed tree's leaves are strings and numbers, so
    a plain walk copies it (checking each node on the way); any other value or tree is still deep-copied."""
    import copy

    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import Node

    if getattr(validators.deepcopy, "filo_plain", False):
        return
    shared = (str, int, float, bool, type(None))
    fields = {"type", "children", "parent"}

    class NotPlain(Exception):
        """A node with more than its type, children and parent, or a leaf that is not a string or a number."""

    def tree(node: Node, parent: Node | None) -> Node:
        if node.__dict__.keys() != fields:
            raise NotPlain
        twin = object.__new__(type(node))
        twin.__dict__.update(node.__dict__)
        twin.parent = parent
        if node.children is not None:
            twin.children = []
            for child in node.children:
                if isinstance(child, Node):
                    child = tree(child, twin)
                elif type(child) not in shared:
                    raise NotPlain
                twin.children.append(child)
        return twin

    def deepcopy(value, memo=None):
        if isinstance(value, Node) and value.parent is None:
            try:
                return tree(value, None)
            except NotPlain:
                pass
        return copy.deepcopy(value, memo)

    deepcopy.filo_plain = True
    validators.deepcopy = deepcopy


def _update_trees_walked_by_class() -> None:
    """moto's validator walks each update expression's tree once per check (ten walks per UpdateItem), and at every
    node asks isinstance of ABC classes (Node's metaclass is ABCMeta, whose checks run in Python) and rebuilds its
    check's table of node classes twice: the walks were two fifths of a conditional write (py-spy, the status
    flood). What a walk does at a node depends on the node's class alone, so it is worked out once per check and
    class: the same checks run, in the same order, on the same nodes. ActionCountValidator's search for clauses
    (Node.find_clauses) asks the same of each child's class, likewise once."""
    import functools

    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Expression, Node, UpdateExpressionFunction

    if getattr(DepthFirstTraverser.traverse_node_recursively, "filo_by_class", False):
        return
    handled_as: dict[tuple[type, type], type | None] = {}  # (check, node class): the first class of its table it is

    @functools.cache
    def is_node(kind: type) -> bool:
        return issubclass(kind, Node)

    @functools.cache
    def descended(kind: type) -> bool:  # what find_clauses looks inside
        return issubclass(kind, (Expression, UpdateExpressionFunction))

    def handler(traverser: DepthFirstTraverser, kind: type):
        key = (type(traverser), kind)
        if key not in handled_as:
            handled_as[key] = next((k for k in traverser._processing_map() if issubclass(kind, k)), None)
        target = handled_as[key]
        if target is None:
            return None
        table = traverser.__dict__.get("_filo_table")
        if table is None:
            table = traverser.__dict__["_filo_table"] = traverser._processing_map()
        return table[target]

    def traverse_node_recursively(self, node, child_id=-1):
        kind = type(node)
        if not is_node(kind):
            return node
        parent_node = node.parent
        if node.children is not None:
            for i, child_node in enumerate(node.children):
                self.pre_processing_of_child(node, i)
                self.traverse_node_recursively(child_node, i)
        process = handler(self, kind)
        if process is not None:
            node = process(node)
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
        return node

    def find_clauses(self, clause_types):
        clauses = []
        for child in self.children or []:
            kind = type(child)
            if kind in clause_types:
                clauses.append(child)
                continue
            if descended(kind):
                clauses.extend(child.find_clauses(clause_types))
        return clauses

    traverse_node_recursively.filo_by_class = True
    traverse_node_recursively.filo_moto = DepthFirstTraverser.traverse_node_recursively
    find_clauses.filo_moto = Node.find_clauses
    DepthFirstTraverser.traverse_node_recursively = traverse_node_recursively
    Node.find_clauses = find_clauses


def _conditions_parsed_once() -> None:
    """moto parses a conditional write's condition twice per request (once to check its placeholders, once to
    evaluate it): a tenth of a conditional write under the status flood (py-spy). The app's status writes send one
    expression with a few values (a lease's condition, with its time and holder, misses and is parsed as before).
    A parse holds the names and values the expression refers to, and the tree is only
    evaluated (Op.expr reads it), so one parse serves every request with the same expression and the same values of
    what it refers to. A request that cannot be keyed (a value json cannot write) is parsed as before, and a parse
    that fails is not kept: it fails again on the next request."""
    import functools
    import json

    from moto.dynamodb import comparisons, responses
    from moto.dynamodb import models as dynamodb_models

    original = comparisons.create_condition_expression_parser
    if getattr(original, "filo_cached", False):
        return

    @functools.lru_cache(maxsize=1024)
    def parsed(expression: str, names: tuple, values: tuple) -> tuple:
        parser = original(expression, dict(names), {k: json.loads(v) for k, v in values})
        op = parser.parse()
        return op, tuple(parser.expr_attr_names_found), tuple(parser.expr_attr_values_found)

    class ParsedOnce:
        """The parser's face (parse(), then the placeholders it found) over the shared parse."""

        def __init__(self, key: tuple):
            self.key, self.expr_attr_names_found, self.expr_attr_values_found = key, [], []

        def parse(self):
            op, names_found, values_found = parsed(*self.key)
            self.expr_attr_names_found, self.expr_attr_values_found = list(names_found), list(values_found)
            return op

    def create_condition_expression_parser(expression, names, values):
        if not expression:
            return original(expression, names, values)
        try:
            return ParsedOnce((expression, tuple(sorted((k, v) for k, v in (names or {}).items() if k in expression)),
                               tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in (values or {}).items()
                                            if k in expression))))
        except TypeError:  # a value json cannot write, or a name that is not a string
            return original(expression, names, values)

    create_condition_expression_parser.filo_cached = True
    for module in (comparisons, responses, dynamodb_models):
        module.create_condition_expression_parser = create_condition_expression_parser


def _hosts_matched_once() -> None:
    """moto's server matches each request's host against the URL patterns of every service it has (hundreds of
    regular expressions) to find the backend: 7% of an SQS call under a status flood (py-spy). The backend of a host
    does not change while the server runs."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.get_backend_for_host
    if getattr(original, "filo_cached", False):
        return
    found: dict = {}

    def get_backend_for_host(self, host):
        if host not in found:
            found[host] = original(self, host)
        return found[host]

    get_backend_for_host.filo_cached = True
    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host


def _actions_routed_once() -> None:
    """moto 5.2 works out a request's action (routing its method, path and headers against the service's model) four
    times per request, once for each step that needs it: a tenth of an SQS call. Once per request is enough."""
    from moto.core.responses import BaseResponse

    original = BaseResponse._get_action
    if getattr(original, "filo_once", False):
        return

    def _get_action(self) -> str:
        request = self.normalized_request
        known = self.__dict__.get("_filo_action")
        if known is None or known[0] is not request:
            known = (request, original(self))
            self.__dict__["_filo_action"] = known
        return known[1]

    _get_action.filo_once = True
    BaseResponse._get_action = _get_action


# Data-plane answers that moto builds already in DynamoDB's wire format (attribute values, counts, capacities).
ITEM_ACTIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                          "BatchWriteItem", "TransactGetItems", "TransactWriteItems"})


def _items_answered_as_json() -> None:
    """moto 5.2 serialises every DynamoDB answer by walking the operation's output shape member by member, where the
    answer of an item operation is already the wire format: a fifth of a conditional write's cost (py-spy, status
    flood). Those answers are written as they are (json); every other answer, and every error, as moto writes it.
    tests/unit/test_motofixes.py checks both writers give the same answers."""
    import base64
    import json

    from moto.dynamodb.responses import DynamoHandler

    def blob(value):  # a binary value moto keeps as bytes (a binary set's members): base64, as moto writes it
        if isinstance(value, bytes):
            return base64.b64encode(value).decode()
        raise TypeError(f"{type(value).__name__} in a DynamoDB answer")

    original = DynamoHandler.serialized
    if getattr(original, "filo_json", False):
        return
    members: dict[str, frozenset[str]] = {}  # each action's output members: moto's answers hold a few more

    def serialized(self, action_result):
        result, action = action_result.result, self._get_action()
        if not isinstance(result, dict) or action not in ITEM_ACTIONS:
            return original(self, action_result)
        if action not in members:
            from moto.core.utils import get_service_model

            shape = get_service_model("dynamodb").operation_model(action).output_shape
            members[action] = frozenset(shape.members)
        result = {key: value for key, value in result.items() if key in members[action]}
        headers = {**self.response_headers, "Content-Type": "application/x-amz-json-1.0", "status": 200}
        return 200, headers, json.dumps(result, separators=(",", ":"), default=blob)

    serialized.filo_json, serialized.filo_moto = True, original
    DynamoHandler.serialized = serialized


def _cache_moto_module_list() -> None:
    """moto's server lists its own package directory (os.listdir and a stat per entry, ~200 of them) on every
    request to tell which service a host names; the list never changes while it runs."""
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules


def _sqs_scans_once() -> None:
    """moto 5.2's SQS scans the whole queue several times per request, where SQS costs the same whatever its depth:
    a send computes every queue attribute (three scans for the approximate counts) to read one of them, and a receive
    lists every visible message to return ten, and checks each one it returns against the retention period through
    those same attributes. With a few hundred webhooks waiting, the webhook's send and the inbound worker's receive
    took most of the stack's CPU (py-spy, bench/webhook_intake.py); with a status flood's thousands, the queue's
    depth slowed every call to it, so the worker fell further behind the deeper it got (issue 18). The same answers:
    a send reads its queue's attributes without the counts, which it does not use; a count is one pass with one clock
    reading; a receive finds visible messages as it reads them and stops when it has enough; the retention period
    is read from the queue itself."""
    from moto.core.utils import unix_time, unix_time_millis
    from moto.sqs.models import Queue, SQSBackend

    if getattr(Queue, "filo_one_pass", False):
        return
    counted = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed",
               "ApproximateNumberOfMessagesNotVisible")
    original_attributes, original_send = Queue.attributes.fget, SQSBackend.send_message
    sending = threading.local()

    def counts(queue) -> dict[str, int]:
        if getattr(sending, "now", False):
            return dict.fromkeys(counted, 0)
        now = unix_time_millis()
        visible = delayed = hidden = 0
        for message in queue._messages:
            is_delayed, is_visible = now < message.delayed_until, now > message.visible_at
            delayed += is_delayed
            hidden += not is_visible
            visible += is_visible and not is_delayed
        return dict(zip(counted, (visible, delayed, hidden), strict=True))

    class _Counted:  # the queue's counts computed once, then read as moto's properties would
        def __init__(self, queue):
            self._queue, self._counts = queue, counts(queue)

        def __getattr__(self, name):
            return getattr(self._queue, name)

    for name in counted:
        setattr(_Counted, "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_"),
                property(lambda self, name=name: self._counts[name]))

    class _Visible:  # the queue's visible messages, found as they are read
        def __init__(self, queue):
            self._queue = queue

        def __iter__(self):
            now = unix_time_millis()
            return (m for m in self._queue._messages if now > m.visible_at and not now < m.delayed_until)

        def __bool__(self) -> bool:
            return next(iter(self), None) is not None

        def __len__(self) -> int:
            return sum(1 for _ in self)

    def send_message(self, *args, **kwargs):
        sending.now = True
        try:
            return original_send(self, *args, **kwargs)
        finally:
            sending.now = False

    def retained(self, queue_name: str, message) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return retention + message.sent_timestamp / 1000 > unix_time()

    Queue.attributes = property(lambda queue: original_attributes(_Counted(queue)))
    Queue.messages = property(_Visible)
    SQSBackend.send_message = send_message
    SQSBackend.is_message_valid_based_on_retention_period = retained
    Queue.filo_one_pass = True


def _sqs_deletes_by_handle() -> None:
    """moto 5.2's SQS finds the message a receipt handle names by scanning the whole queue twice per delete, building
    a list of every message's handles on the way: behind a status flood's thousands of waiting webhooks each
    DeleteMessageBatch of the inbound worker cost more than the batch's work (issue 18). Each handle a message is
    given is noted against it, so a delete finds its message at once; a handle not noted (a message restored from a
    snapshot) is looked for as moto does. And a delete holds the lock a send appends under: moto rebuilds the list
    without it, so a message sent in that instant was answered and lost (2 statuses of 20,000 in a status flood;
    one send in 6,000 with four senders and two deleters, tests/unit/test_motofixes.py)."""
    from weakref import WeakValueDictionary

    from moto.sqs.models import Message, Queue

    if getattr(Queue.delete_message, "filo_by_handle", False):
        return
    named: WeakValueDictionary = WeakValueDictionary()
    original_delete = Queue.delete_message

    def set_handle(message, handle: str | None) -> None:
        message.__dict__["_filo_handle"] = handle
        if handle is not None:
            named[handle] = message

    def delete_message(self, receipt_handle: str) -> None:
        with self._messages_lock:  # a send appends under it: a list rebuilt meanwhile would drop what it appended
            message = named.get(receipt_handle)
            messages = self._messages
            if message is None or receipt_handle in self.deleted_messages:
                return original_delete(self, receipt_handle)
            try:
                at = messages.index(message)  # by identity first: Message has no __eq__
            except ValueError:  # another queue's handle: moto's own answer
                return original_delete(self, receipt_handle)
            self.pending_messages.discard(message)
            self.deleted_messages.update(message.all_receipt_handles)
            self._messages = messages[:at] + messages[at + 1:]

    delete_message.filo_by_handle = True
    Message.receipt_handle = property(lambda message: message.__dict__.get("_filo_handle"), set_handle)
    Queue.delete_message = delete_message


def _queries_read_their_partition() -> None:
    """moto 5.2 answers every Query by sorting the whole table (Table.all_items) and then keeping the partition asked
    for: with a channel's 50,000 subscribers in the citizens table a preview's few Queries took 2 s, where DynamoDB
    reads only the partitions asked for (issue 18). A Query sorts what it keeps itself, so within one all_items
    gives the items unsorted, and for a Query of the table's own key only that partition's items. Answers are
    unchanged; index Queries still look at every item, as moto keeps no index."""
    import inspect

    from moto.dynamodb.models.table import Table

    original_query, original_all = Table.query, Table.all_items
    if getattr(original_query, "filo_partition", False):
        return
    signature = inspect.signature(original_query)
    inside = threading.local()

    def items_of(table, part) -> list:
        return list(part.values()) if table.range_key_attr else [part]

    def all_items(self) -> list:
        if getattr(inside, "table", None) is not self:
            return original_all(self)
        if inside.partition is not None:
            part = self.items.get(inside.partition)
            return [] if part is None else items_of(self, part)
        return [item for part in self.items.values() for item in items_of(self, part)]

    def query(self, *args, **kwargs):
        call = signature.bind(self, *args, **kwargs)
        own_key = not call.arguments.get("index_name")
        inside.table, inside.partition = self, call.arguments.get("hash_key") if own_key else None
        try:
            return original_query(self, *args, **kwargs)
        finally:
            inside.table = inside.partition = None

    query.filo_partition = True
    Table.query, Table.all_items = query, all_items
