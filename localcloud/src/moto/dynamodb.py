# --- DynamoDB: writes are atomic, transactions serializable ---------------------------------------
# "TransactWriteItems … all-or-nothing", with serializable isolation between transactions and
# standard writes (DynamoDB Developer Guide, "Amazon DynamoDB Transactions: How it works",
# "Isolation levels"). moto's server is threaded and its TransactWriteItems undoes a cancelled
# transaction by restoring a copy of the whole table taken before it: a concurrent write that
# lands in between is lost or, when a later copy is restored, counted twice (the daily image
# counters drifted under 20 concurrent requests). One lock around every write makes each write
# and each transaction happen whole, one at a time — stricter than DynamoDB, never looser.
_WRITE_LOCK = threading.RLock()

# --- DynamoDB: overlapping transactions conflict ---------------------------------------------------
# A transaction prepares every item, then commits (two underlying writes per item). While it is
# under way, DynamoDB refuses what overlaps it ("Transaction conflict handling in DynamoDB",
# Developer Guide, same page; TransactWriteItems and TransactionCanceledException in the API
# reference):
# - another TransactWriteItems that includes one of its items is cancelled:
#   TransactionCanceledException, the reason `TransactionConflict` for that item, `None` for the
#   others ("Transaction is ongoing for the item");
# - a PutItem, UpdateItem or DeleteItem of one of its items fails with
#   TransactionConflictException.
# The SDKs do not retry either. moto runs nothing at the same time (the lock above), so it never
# conflicts: here each transaction holds its items for a window before it commits, and what
# overlaps the window is refused as DynamoDB refuses it. The window (LOCALCLOUD_DYNAMODB_TXN_WINDOW_MS,
# 25 ms) is longer than DynamoDB's usual transaction latency, so conflicts come at least as often.
_TXN_WINDOW_S = float(os.environ.get("LOCALCLOUD_DYNAMODB_TXN_WINDOW_MS", "25")) / 1000
_IN_TRANSACTION = set()  # (table, hash key, range key) of items a transaction holds
_IN_TRANSACTION_LOCK = threading.Lock()
_CONFLICT = "Transaction is ongoing for the item"
_COMMITTING = threading.local()  # set while a transaction's own writes run


class TransactionConflictException(JsonRESTError):
    def __init__(self):
        super().__init__("com.amazonaws.dynamodb.v20120810#TransactionConflictException", _CONFLICT)


def _item_key(backend, table_name, key_or_item):
    """The identity of one item: its table and key attributes (None when there is no such table)."""
    try:
        table = backend.get_table(table_name)
    except Exception:  # the operation itself answers ResourceNotFoundException
        return None
    attrs = key_or_item or {}
    hash_value = attrs.get(table.hash_key_attr)
    range_value = attrs.get(table.range_key_attr) if table.range_key_attr else None
    return (table_name, json.dumps(hash_value, sort_keys=True), json.dumps(range_value, sort_keys=True))


def _transaction_items(backend, transact_items):
    keys = []
    for entry in transact_items or []:
        kind, op = next(iter(entry.items()))
        keys.append(_item_key(backend, op.get("TableName"), op.get("Item") if kind == "Put" else op.get("Key")))
    return keys


_transact_write_items = _original(dynamodb.DynamoDBBackend, "transact_write_items", ("self", "transact_items"))


def _transact_write_items_conflicting(self, transact_items):
    keys = _transaction_items(self, transact_items)
    with _IN_TRANSACTION_LOCK:
        busy = [k is not None and k in _IN_TRANSACTION for k in keys]
        if any(busy):
            raise dynamodb_exceptions.TransactionCanceledException(
                [("TransactionConflict", _CONFLICT, None) if b else (None, None, None) for b in busy]
            )
        held = {k for k in keys if k is not None}
        _IN_TRANSACTION.update(held)
    try:
        time.sleep(_TXN_WINDOW_S)  # prepared, not yet committed
        with _WRITE_LOCK:
            # moto commits through its own put_item/update_item/delete_item: those are this
            # transaction's writes, not ones that overlap it.
            _COMMITTING.active = True
            try:
                return _transact_write_items(self, transact_items)
            finally:
                _COMMITTING.active = False
    finally:
        with _IN_TRANSACTION_LOCK:
            _IN_TRANSACTION.difference_update(held)


def _standard_write(method, key_of):
    def run(self, *args, **kwargs):
        key = None if getattr(_COMMITTING, "active", False) else _item_key(self, *key_of(args, kwargs))
        with _IN_TRANSACTION_LOCK:
            if key is not None and key in _IN_TRANSACTION:
                raise TransactionConflictException()
        with _WRITE_LOCK:
            return method(self, *args, **kwargs)

    return run


def _arg(args, kwargs, i, name):
    return args[i] if len(args) > i else kwargs.get(name)


dynamodb.DynamoDBBackend.transact_write_items = _transact_write_items_conflicting
for _name, _key_param in (("put_item", "item_attrs"), ("update_item", "key"), ("delete_item", "key")):
    _method = _original(dynamodb.DynamoDBBackend, _name)
    if list(inspect.signature(_method).parameters)[1:3] != ["table_name", _key_param]:
        raise PatchDoesNotFit(
            f"moto patches: moto {moto.__version__} changed DynamoDBBackend.{_name}'s first parameters "
            f"(expected table_name, {_key_param}); rewrite its patch in localcloud/src/moto/dynamodb.py"
        )
    setattr(
        dynamodb.DynamoDBBackend,
        _name,
        _standard_write(
            _method,
            lambda args, kwargs, k=_key_param: (_arg(args, kwargs, 0, "table_name"), _arg(args, kwargs, 1, k)),
        ),
    )
# BatchWriteItem needs nothing of its own: moto's handler writes each item through put_item and
# delete_item above.
