"""moto, made as strict as AWS where the product relies on it, then started like `moto.server`.

Each patch below names the AWS behaviour it reproduces and where that is documented. Run as
`python -c <this file> -H HOST -p PORT` (the arguments of moto.server).
"""

import base64
import inspect
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import moto
from moto.apigateway import models as apigateway
from moto.apigateway import responses as apigateway_responses
from moto.apigateway.exceptions import BadRequestException
from moto.cognitoidp import models as cognitoidp
from moto.cognitoidp import responses as cognitoidp_responses
from moto.cognitoidp.exceptions import (
    InvalidParameterException,
    NotAuthorizedError,
    ResourceNotFoundError,
    UserNotFoundError,
)
from moto.core.responses import ActionResult, EmptyResult
from moto.cognitoidp.utils import flatten_attrs
from moto.core.exceptions import JsonRESTError
from moto.dynamodb import exceptions as dynamodb_exceptions
from moto.dynamodb import models as dynamodb


# --- Each patch checks what it replaces --------------------------------------------------------
# moto is pinned exactly (scripts/python/localcloud.lock), but its internals are not an API: a
# new release may rename a method or change its parameters. Every patch goes through `_original`,
# which stops the server at start-up naming the attribute that no longer fits, instead of letting
# a wrapper pass the wrong arguments and give a wrong answer later.
class PatchDoesNotFit(SystemExit):
    pass


def _original(owner, name, params=None):
    """The callable `owner.name`, checked to take exactly `params` (names, in order; None: any)."""
    where = f"{owner.__module__}.{owner.__qualname__}.{name}"
    found = getattr(owner, name, None)
    if not callable(found):
        raise PatchDoesNotFit(
            f"moto_patches: moto {moto.__version__} has no {where}; the patch of it in "
            f"localcloud/src/moto_patches.py must be rewritten for this release"
        )
    actual = tuple(inspect.signature(found).parameters)
    if params is not None and actual != tuple(params):
        raise PatchDoesNotFit(
            f"moto_patches: moto {moto.__version__} changed {where}{actual} (the patch expects "
            f"{tuple(params)}); rewrite its patch in localcloud/src/moto_patches.py"
        )
    return found

# --- API Gateway: UpdateAuthorizer on providerARNs -----------------------------------------------
# API Gateway changes a Cognito authorizer's providerARNs with `add` and `remove` operations on
# the path `/providerARNs`, the ARN as the value; the list cannot become empty, so an ARN is
# replaced by adding the new one first (PatchOperation in the API Gateway API reference; the same
# operations in the AWS Terraform provider's authorizer resource). moto 5 raises on that path.
_authorizer_apply = _original(apigateway.Authorizer, "apply_operations", ("self", "patch_operations"))


def _authorizer_apply_operations(self, patch_operations):
    rest = []
    for op in patch_operations:
        path, verb, value = op.get("path", ""), op.get("op"), op.get("value")
        if not path.startswith("/providerARNs"):
            rest.append(op)
            continue
        if path != "/providerARNs" or verb not in ("add", "remove") or not value:
            raise BadRequestException(
                f"Invalid patch operation specified. Must be one of: [add, remove] on path /providerARNs "
                f"with an ARN as the value (got op {verb!r}, path {path!r})"
            )
        arns = list(self.provider_arns or [])
        if verb == "add":
            if value not in arns:
                arns.append(value)
        else:
            if value not in arns:
                raise BadRequestException(f"Invalid providerARN to remove: {value}")
            arns.remove(value)
            if not arns:
                raise BadRequestException("providerARNs must contain at least one user pool ARN")
        self.provider_arns = arns
    return _authorizer_apply(self, rest) if rest else self


apigateway.Authorizer.apply_operations = _authorizer_apply_operations

# --- API Gateway: tags of a REST API ---------------------------------------------------------------
# TagResource, UntagResource and GetTags take the ARN of a REST API,
# arn:aws:apigateway:REGION::/restapis/ID, as well as a stage's (API reference, TagResource:
# "resourceArn: The ARN of a resource that can be tagged"; "Tagging your API Gateway resources",
# which lists REST APIs). moto 5.2.6 reads every ARN as a stage's and fails on an API's. A REST
# API's tags are also what GetRestApi answers.
def _rest_api_of_arn(response):
    arn = urllib.parse.unquote(response.path.split("/tags/", 1)[1])
    head, _, path = arn.partition("::")
    parts = path.strip("/").split("/")
    if head.startswith("arn:") and len(parts) == 2 and parts[0] == "restapis":
        return response.backend.get_rest_api(parts[1])
    return None


def _tags_patch(name, on_api):
    original = _original(apigateway_responses.APIGatewayResponse, name, ("self",))

    def run(self):
        api = _rest_api_of_arn(self)
        return on_api(self, api) if api is not None else original(self)

    setattr(apigateway_responses.APIGatewayResponse, name, run)


def _get_api_tags(self, api):
    return json.dumps({"tags": api.tags or {}})


def _tag_api(self, api):
    tags = self._get_param("tags") or {}
    api.tags = {**(api.tags or {}), **tags}
    return json.dumps({})


def _untag_api(self, api):
    keys = self.querystring.get("tagKeys") or []
    api.tags = {k: v for k, v in (api.tags or {}).items() if k not in keys}
    return json.dumps({})


# moto routes /tags/<arn> only for ARNs without '/' (or of a stage); the REST API's ARN has one
# once the server has decoded the path.
from moto.apigateway import urls as apigateway_urls  # noqa: E402

apigateway_urls.url_paths[
    "{0}/tags/arn:(?P<partition>[^/]+):apigateway:(?P<region_name>[^/]+)::/restapis/(?P<function_id>[^/]+)$"
] = apigateway_responses.APIGatewayResponse.dispatch

_tags_patch("get_tags", _get_api_tags)
_tags_patch("tag_resource", _tag_api)
_tags_patch("untag_resource", _untag_api)

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
            f"moto_patches: moto {moto.__version__} changed DynamoDBBackend.{_name}'s first parameters "
            f"(expected table_name, {_key_param}); rewrite its patch in localcloud/src/moto_patches.py"
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

# --- Cognito: what UpdateUserPool cannot change --------------------------------------------------
# UsernameAttributes, AliasAttributes and UsernameConfiguration are set when a pool is created and
# are not parameters of UpdateUserPool (API reference, UpdateUserPool; "Changing user pool
# attributes after creation is not possible"). moto resets them to its defaults on every update.
_IMMUTABLE = ("UsernameAttributes", "AliasAttributes", "UsernameConfiguration")
_update_extended_config = _original(cognitoidp.CognitoIdpUserPool, "update_extended_config", ("self", "extended_config"))


def _keep_immutable(self, extended_config):
    kept = {k: v for k, v in getattr(self, "extended_config", {}).items() if k in _IMMUTABLE}
    _update_extended_config(self, extended_config)
    self.extended_config.update(kept)


cognitoidp.CognitoIdpUserPool.update_extended_config = _keep_immutable

# --- Cognito: case-insensitive user names ---------------------------------------------------------
# With UsernameConfiguration {CaseSensitive: false}, "user names and aliases are case insensitive"
# (API reference, UsernameConfigurationType): Alice@Example.com and alice@example.com are one
# user, for sign-in, lookups and the existence check of sign-up. moto ignores the setting.
_get_user = _original(cognitoidp.CognitoIdpUserPool, "_get_user", ("self", "username"))


def _get_user_any_case(self, username):
    user = _get_user(self, username)
    if user is not None or not username:
        return user
    if (self.extended_config.get("UsernameConfiguration") or {}).get("CaseSensitive", True) is not False:
        return None
    wanted = username.lower()
    attributes = self.extended_config.get("UsernameAttributes") or []
    for candidate in self.users.values():
        names = [candidate.username] + [flatten_attrs(candidate.attributes).get(a) for a in attributes]
        if any(n and n.lower() == wanted for n in names):
            return candidate
    return None


cognitoidp.CognitoIdpUserPool._get_user = _get_user_any_case

# --- Cognito: an app client signs in only with the flows it allows --------------------------------
# InitiateAuth with a flow missing from the client's ExplicitAuthFlows fails with
# InvalidParameterException "<FLOW> flow not enabled for this client" (API reference,
# InitiateAuth; ExplicitAuthFlows in CreateUserPoolClient). moto accepts any flow.
_initiate_auth = _original(
    cognitoidp.CognitoIdpBackend, "initiate_auth", ("self", "client_id", "auth_flow", "auth_parameters")
)
_respond_to_auth_challenge = _original(
    cognitoidp.CognitoIdpBackend,
    "respond_to_auth_challenge",
    ("self", "session", "client_id", "challenge_name", "challenge_responses"),
)

# --- Cognito: USER_SRP_AUTH verifies the password proof -------------------------------------------
# USER_SRP_AUTH is SRP-6a (RFC 5054, which specifies SRP-6a and its groups; SRP itself: RFC 2945)
# in the variant Cognito speaks (API reference, InitiateAuth: "SRP_A"; RespondToAuthChallenge,
# PASSWORD_VERIFIER: PASSWORD_CLAIM_SIGNATURE, PASSWORD_CLAIM_SECRET_BLOCK, TIMESTAMP). InitiateAuth
# answers SRP_B, SALT, SECRET_BLOCK and USER_ID_FOR_SRP (the user's user name, which the client
# signs with); RespondToAuthChallenge signs the user in only if the signature proves the password,
# otherwise NotAuthorizedException "Incorrect username or password.". Cognito publishes no server
# side; this is the mirror of the client it ships, amazon-cognito-identity-js
# (src/AuthenticationHelper.js, CognitoUser.js authenticateUserDefaultAuth, DateHelper.js), which
# the web app uses, and agrees with the other clients (aws-cognito-srp, pycognito's aws_srp.py):
#   N: the 3072-bit group of RFC 5054 (appendix A), g = 2, H = SHA-256, k = H(N | g);
#   x = H(salt | H(poolName + userIdForSrp + ":" + password)), v = g^x (poolName: the pool id
#   without "<region>_"); the server's B = (k*v + g^b) % N; u = H(A | B); S = (A * v^u)^b % N;
#   K = HKDF-SHA256(ikm S, salt u, info "Caldera Derived Key")[:16];
#   signature = base64(HMAC-SHA256(K, poolName + userIdForSrp + SECRET_BLOCK's bytes + TIMESTAMP)).
# Numbers are hashed as the client pads them (padHex: even-length hex, "00" before a set top bit).
# TIMESTAMP is "EEE MMM d HH:mm:ss z yyyy" in English, e.g. "Tue Feb 3 09:05:07 UTC 2026";
# Cognito reads it and signs its own rendering of that time, so a zero-padded day or a wrong
# weekday signs something else and fails as a wrong password; an unreadable one is
# InvalidParameterException "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english."
# (clients' reports: amazon-cognito-identity-js issue 683, warrant pull request 12).
# moto answers random numbers and accepts any proof; these patches make it compute and check.
# moto keeps passwords in plain text, so the verifier v is derived from it when a sign-in starts,
# with a random salt per user and password (Cognito keeps salt and verifier from when the password
# was set). A and the server's secret b wait with the session until the client answers.
import hashlib  # noqa: E402
import hmac  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
from datetime import datetime  # noqa: E402

_SRP_N = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
    16,
)
_SRP_G = 2
_SRP_INFO = b"Caldera Derived Key"
_WRONG_PASSWORD = "Incorrect username or password."
_TIMESTAMP_FORMAT = "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english."
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TIMESTAMP = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (%s) (\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2}) UTC (\d{4})" % "|".join(_MONTHS)
)


def _srp_pad(n):
    """The bytes amazon-cognito-identity-js hashes for the non-negative number n (its padHex)."""
    h = format(n, "x")
    if len(h) % 2:
        h = "0" + h
    if h[0] in "89abcdef":
        h = "00" + h
    return bytes.fromhex(h)


def _srp_hash(*parts):
    return int.from_bytes(hashlib.sha256(b"".join(parts)).digest(), "big")


_SRP_K = _srp_hash(_srp_pad(_SRP_N), _srp_pad(_SRP_G))


# A sign-in left unanswered is forgotten after 15 minutes, the longest session an app client can
# have (AuthSessionValidity, 3 to 15 minutes, in CreateUserPoolClient); its proof then fails.
_SRP_PENDING_S = 15 * 60


def _srp_state(backend):
    # Kept on the backend, so moto's reset drops it with the sessions.
    # "salts": (pool id, user id) → (password, salt); "pending": SECRET_BLOCK → the open sign-in.
    return vars(backend).setdefault("_srp_state", {"salts": {}, "pending": {}})


def _srp_verifier(pool, user, user_id_for_srp, state):
    """(SALT as sent, v) for the user's current password."""
    password = user.password
    if password is None:  # no password yet: nothing may prove one
        password = secrets.token_hex(32)
    known = state["salts"].get((pool.id, user.id))
    if known is None or known[0] != password:
        # 16 random bytes, the first not zero: clients that hash SALT as decoded bytes and those
        # that hash it as a number (padHex) then hash the same bytes.
        salt = bytes([secrets.randbelow(255) + 1]) + secrets.token_bytes(15)
        known = (password, salt.hex())
        state["salts"][(pool.id, user.id)] = known
    salt_hex = known[1]
    pool_name = pool.id.split("_", 1)[1]
    inner = hashlib.sha256(f"{pool_name}{user_id_for_srp}:{password}".encode()).digest()
    x = _srp_hash(_srp_pad(int(salt_hex, 16)), inner)
    return salt_hex, pow(_SRP_G, x, _SRP_N)


def _srp_challenge(backend, pool, client_id, user, srp_a, block):
    """The challenge parameters of USER_SRP_AUTH; the sign-in waits under `block` for its proof."""
    state = _srp_state(backend)
    user_id_for_srp = user.username
    salt_hex, v = _srp_verifier(pool, user, user_id_for_srp, state)
    b = secrets.randbits(1024)
    big_b = (_SRP_K * v + pow(_SRP_G, b, _SRP_N)) % _SRP_N
    now = time.monotonic()
    for stale in [k for k, p in list(state["pending"].items()) if now - p["at"] > _SRP_PENDING_S]:
        state["pending"].pop(stale, None)
    state["pending"][block] = {
        "at": now,
        "pool": pool.id,
        "client": client_id,
        "user": user,
        "user_id": user_id_for_srp,
        "A": srp_a,
        "B": big_b,
        "b": b,
        "v": v,
    }
    return {"SRP_B": format(big_b, "x"), "SALT": salt_hex, "SECRET_BLOCK": block, "USER_ID_FOR_SRP": user_id_for_srp}


def _srp_canonical_timestamp(text):
    m = _TIMESTAMP.fullmatch(text or "")
    if m is None:
        raise InvalidParameterException(_TIMESTAMP_FORMAT)
    _, month, day, hh, mm, ss, year = m.groups()
    try:
        t = datetime(int(year), _MONTHS.index(month) + 1, int(day), int(hh), int(mm), int(ss))
    except ValueError:
        raise InvalidParameterException(_TIMESTAMP_FORMAT)
    return f"{_DAYS[t.weekday()]} {month} {t.day} {t:%H:%M:%S} UTC {t.year}"


def _srp_signature(pending, pool_id, block, timestamp):
    """The PASSWORD_CLAIM_SIGNATURE the password would give (bytes), or None (SECRET_BLOCK not base64)."""
    A, B, b, v = pending["A"], pending["B"], pending["b"], pending["v"]
    u = _srp_hash(_srp_pad(A), _srp_pad(B))
    S = pow(A * pow(v, u, _SRP_N), b, _SRP_N)
    prk = hmac.new(_srp_pad(u), _srp_pad(S), hashlib.sha256).digest()
    key = hmac.new(prk, _SRP_INFO + b"\x01", hashlib.sha256).digest()[:16]
    try:
        block_bytes = base64.b64decode(block, validate=True)
    except ValueError:
        return None
    pool_name = pool_id.split("_", 1)[1]
    message = pool_name.encode() + pending["user_id"].encode() + block_bytes + timestamp.encode()
    return hmac.new(key, message, hashlib.sha256).digest()


# NEW_PASSWORD_REQUIRED (an invited user's first sign-in): Cognito sends the user's attributes
# and the required ones as JSON strings, which client libraries parse (API reference,
# InitiateAuth, ChallengeParameters; amazon-cognito-identity-js reads `userAttributes` and
# `requiredAttributes`), with USER_ID_FOR_SRP. moto sends neither, after the password flow and
# after the SRP proof alike.
def _new_password_parameters(answer, user):
    if answer.get("ChallengeName") != "NEW_PASSWORD_REQUIRED" or user is None:
        return answer
    params = answer.get("ChallengeParameters") or {}
    attrs = {k: v for k, v in flatten_attrs(user.attributes).items() if k != "sub"}
    params.setdefault("userAttributes", json.dumps(attrs))
    params.setdefault("requiredAttributes", "[]")
    params.setdefault("USER_ID_FOR_SRP", user.username)
    answer["ChallengeParameters"] = params
    return answer


def _initiate_auth_checked(self, client_id, auth_flow, auth_parameters):
    pool = None
    for candidate in self.user_pools.values():
        client = candidate.clients.get(client_id)
        if client is None:
            continue
        pool = candidate
        allowed = client.extended_config.get("ExplicitAuthFlows") or []
        flow = str(auth_flow)
        if allowed and f"ALLOW_{flow}" not in allowed and flow not in allowed:
            raise InvalidParameterException(f"{flow} flow not enabled for this client")
    srp_a = None
    if str(auth_flow) == "USER_SRP_AUTH" and (auth_parameters or {}).get("SRP_A"):
        if not re.fullmatch(r"[0-9a-fA-F]+", auth_parameters["SRP_A"]):
            raise InvalidParameterException("SRP_A is not a hexadecimal number.")
        srp_a = int(auth_parameters["SRP_A"], 16)
        # RFC 5054, 2.5.4: the server aborts if A % N = 0 (with such an A, S is 0 whatever the
        # password, and anyone could sign in).
        if srp_a % _SRP_N == 0:
            raise NotAuthorizedError(_WRONG_PASSWORD)
    answer = _initiate_auth(self, client_id, auth_flow, auth_parameters)
    params = answer.get("ChallengeParameters") or {}
    user = pool._get_user((auth_parameters or {}).get("USERNAME")) if pool is not None else None
    if answer.get("ChallengeName") == "PASSWORD_VERIFIER" and "SECRET_BLOCK" in params and srp_a is not None:
        # Cognito's SECRET_BLOCK is base64 (the client decodes it to sign the claim); moto's is its
        # session id. It goes out base64-encoded and is the session's key from now on.
        raw = params["SECRET_BLOCK"]
        block = base64.b64encode(raw.encode()).decode()
        if raw in self.sessions:
            self.sessions[block] = self.sessions.pop(raw)
        params.update(_srp_challenge(self, pool, client_id, user, srp_a % _SRP_N, block))
        answer["ChallengeParameters"] = params
        answer["Session"] = block
    return _new_password_parameters(answer, user)


def _respond_to_auth_challenge_checked(self, session, client_id, challenge_name, challenge_responses):
    responses = challenge_responses or {}
    if str(challenge_name) != "PASSWORD_VERIFIER" or not all(
        responses.get(k) for k in ("PASSWORD_CLAIM_SIGNATURE", "PASSWORD_CLAIM_SECRET_BLOCK", "TIMESTAMP")
    ):
        return _respond_to_auth_challenge(self, session, client_id, challenge_name, challenge_responses)
    block = responses["PASSWORD_CLAIM_SECRET_BLOCK"]
    pending = _srp_state(self)["pending"].pop(block, None)  # one answer per challenge
    if pending is None or pending["client"] != client_id:
        raise NotAuthorizedError(_WRONG_PASSWORD)
    pool = self.user_pools.get(pending["pool"])
    user = pool._get_user(responses.get("USERNAME")) if pool is not None else None
    timestamp = _srp_canonical_timestamp(responses["TIMESTAMP"])
    expected = _srp_signature(pending, pending["pool"], block, timestamp)
    try:
        claimed = base64.b64decode(responses["PASSWORD_CLAIM_SIGNATURE"], validate=True)
    except ValueError:
        claimed = b""
    if user is not pending["user"] or expected is None or not hmac.compare_digest(expected, claimed):
        self.sessions.pop(block, None)
        raise NotAuthorizedError(_WRONG_PASSWORD)
    answer = _respond_to_auth_challenge(self, session, client_id, challenge_name, challenge_responses)
    return _new_password_parameters(answer, user)


cognitoidp.CognitoIdpBackend.initiate_auth = _initiate_auth_checked
cognitoidp.CognitoIdpBackend.respond_to_auth_challenge = _respond_to_auth_challenge_checked

# --- Cognito: the ID token carries the user's attributes --------------------------------------------
# "The ID token ... contains claims about the identity of the authenticated user, such as name,
# email, and phone_number" (Developer Guide, "Understanding the identity (ID) token", whose sample
# has "email_verified": true); the app client's ReadAttributes choose them, and "when you don't
# specify the ReadAttributes for your app client, your app can read the values of email_verified,
# phone_number_verified, and the standard attributes of your user pool" (API reference,
# UserPoolClientType). moto puts only a client's ReadAttributes in, and without them makes the
# `email` claim the name the user signed in with: after an SRP sign-in that is USER_ID_FOR_SRP
# (the sub, in a pool that signs in with e-mail addresses), not the address.
_STANDARD_ATTRIBUTES = (
    "address", "birthdate", "email", "email_verified", "family_name", "gender", "given_name", "locale",
    "middle_name", "name", "nickname", "phone_number", "phone_number_verified", "picture",
    "preferred_username", "profile", "updated_at", "website", "zoneinfo",
)
_extra_data = _original(cognitoidp.CognitoIdpUserPool, "get_user_extra_data_by_client_id", ("self", "client_id", "username"))
_original(cognitoidp.CognitoIdpUserPoolClient, "get_readable_fields", ("self",))


def _id_token_attributes(self, client_id, username):
    data = _extra_data(self, client_id, username)
    client = self.clients.get(client_id)
    if client is not None and not client.get_readable_fields():
        user = self._get_user(username)
        attributes = flatten_attrs(user.attributes) if user is not None else {}
        data.update({k: v for k, v in attributes.items() if k in _STANDARD_ATTRIBUTES})
    for flag in ("email_verified", "phone_number_verified"):
        if isinstance(data.get(flag), str):
            data[flag] = data[flag].lower() == "true"
    return data


cognitoidp.CognitoIdpUserPool.get_user_extra_data_by_client_id = _id_token_attributes

# --- Cognito: self sign-up off -------------------------------------------------------------------
# With AdminCreateUserConfig.AllowAdminCreateUserOnly, "only the administrator is allowed to create
# user profiles": SignUp fails with NotAuthorizedException "SignUp is not permitted for this user
# pool" (API reference, AdminCreateUserConfigType and SignUp). moto lets anyone sign up.
# (`_sign_up_checked` below, with the trigger.)
_sign_up = _original(cognitoidp.CognitoIdpBackend, "sign_up", ("self", "client_id", "username", "password", "attributes"))

# --- Cognito: the PreSignUp trigger --------------------------------------------------------------
# A pool's LambdaConfig.PreSignUp function runs before SignUp (PreSignUp_SignUp) and
# AdminCreateUser (PreSignUp_AdminCreateUser) create a user; Cognito invokes it synchronously with
# the event, a function error refuses the call with UserLambdaValidationException "PreSignUp failed
# with error MESSAGE." (Cognito Developer Guide, "Pre sign-up Lambda trigger" and "Lambda trigger
# event: common parameters"). Cognito may invoke it only if the function's resource policy allows
# cognito-idp.amazonaws.com from the pool's ARN; otherwise "PreSignUp invocation failed due to
# error AccessDeniedException." (UnexpectedLambdaException in the SignUp API reference). moto runs
# no trigger; the function runs in the local cloud's Lambda stand-in, whose Invoke endpoint the
# local cloud passes here.
LAMBDA_ENDPOINT = os.environ.get("LOCALCLOUD_LAMBDA_ENDPOINT", "")
# Cognito waits 5 seconds for a trigger (Developer Guide, "Customizing user pool workflows with
# Lambda triggers": "the function must respond within 5 seconds").
TRIGGER_TIMEOUT_S = 5


class UserLambdaValidationException(JsonRESTError):
    def __init__(self, message):
        super().__init__("UserLambdaValidationException", message)


class UnexpectedLambdaException(JsonRESTError):
    def __init__(self, message):
        super().__init__("UnexpectedLambdaException", message)


def _cognito_may_invoke(function_arn, pool_arn):
    from moto.awslambda.models import lambda_backends

    _, _, _, region, account, _, name = function_arn.split(":", 6)
    try:
        # GetPolicy's answer: {"Policy": "<the policy document as a JSON string>", "RevisionId": …}
        policy = json.loads(json.loads(lambda_backends[account][region].get_policy(name))["Policy"])
    except Exception:  # no function or no policy: nothing allows Cognito
        return False
    for st in policy.get("Statement", []):
        principal = st.get("Principal")
        service = principal.get("Service") if isinstance(principal, dict) else principal
        source = ((st.get("Condition") or {}).get("ArnLike") or {}).get("AWS:SourceArn")
        if (
            st.get("Effect") == "Allow"
            and st.get("Action") in ("lambda:InvokeFunction", ["lambda:InvokeFunction"])
            and service == "cognito-idp.amazonaws.com"
            and source in (None, pool_arn)
        ):
            return True
    return False


def _run_pre_sign_up(pool, source, username, attributes, client_id=None):
    arn = (pool.extended_config.get("LambdaConfig") or {}).get("PreSignUp")
    if not arn:
        return
    if not LAMBDA_ENDPOINT:
        raise UnexpectedLambdaException(
            "PreSignUp invocation failed: this moto was started without the local cloud's Lambda endpoint"
        )
    if not _cognito_may_invoke(arn, pool.arn):
        raise UnexpectedLambdaException("PreSignUp invocation failed due to error AccessDeniedException.")
    user_attributes = flatten_attrs(attributes or [])
    if "email" in (pool.extended_config.get("UsernameAttributes") or []) and "@" in username:
        user_attributes.setdefault("email", username)
    region = arn.split(":")[3]
    event = {
        "version": "1",
        "region": region,
        "userPoolId": pool.id,
        "userName": username,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id or "CLIENT_ID_NOT_APPLICABLE"},
        "triggerSource": source,
        "request": {"userAttributes": user_attributes, "validationData": None},
        "response": {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False},
    }
    name = arn.rsplit(":", 1)[-1]
    req = urllib.request.Request(
        f"{LAMBDA_ENDPOINT}/2015-03-31/functions/{name}/invocations",
        data=json.dumps(event).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            # The stand-in finds the function by the region of the SigV4 credential scope.
            "Authorization": f"AWS4-HMAC-SHA256 Credential=cognito/20261202/{region}/lambda/aws4_request",
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=TRIGGER_TIMEOUT_S) as resp:
            failed = resp.headers.get("X-Amz-Function-Error")
            payload = json.loads(resp.read() or b"null")
    except (urllib.error.URLError, TimeoutError, ValueError) as e:
        raise UnexpectedLambdaException(f"PreSignUp invocation failed due to error {type(e).__name__}.")
    if failed:
        message = payload.get("errorMessage", "") if isinstance(payload, dict) else ""
        raise UserLambdaValidationException(f"PreSignUp failed with error {message}.")
    if not isinstance(payload, dict) or "response" not in payload:
        raise UnexpectedLambdaException("PreSignUp invocation failed due to error Unrecognizable lambda output.")


def _sign_up_checked(self, client_id, username, password, attributes):
    for pool in self.user_pools.values():
        if client_id in pool.clients:
            config = pool.extended_config.get("AdminCreateUserConfig") or {}
            if config.get("AllowAdminCreateUserOnly"):
                raise NotAuthorizedError("SignUp is not permitted for this user pool")
            _run_pre_sign_up(pool, "PreSignUp_SignUp", username, attributes, client_id)
    return _sign_up(self, client_id, username, password, attributes)


_admin_create_user = _original(
    cognitoidp.CognitoIdpBackend,
    "admin_create_user",
    ("self", "user_pool_id", "username", "message_action", "temporary_password", "attributes"),
)


def _admin_create_user_vetted(self, user_pool_id, username, message_action, temporary_password, attributes):
    if message_action != "RESEND":
        pool = self.describe_user_pool(user_pool_id)
        _run_pre_sign_up(pool, "PreSignUp_AdminCreateUser", username, attributes)
    return _admin_create_user(self, user_pool_id, username, message_action, temporary_password, attributes)


cognitoidp.CognitoIdpBackend.sign_up = _sign_up_checked
cognitoidp.CognitoIdpBackend.admin_create_user = _admin_create_user_vetted

# --- Cognito: two operations the web app calls that moto lacks -------------------------------------
# moto answers both with a bare 500. The web app's "Send a new code" on the sign-up confirmation
# calls ResendConfirmationCode; signing out on AWS calls RevokeToken.
def _pool_of_client(backend, client_id):
    for pool in backend.user_pools.values():
        if client_id in pool.clients:
            return pool
    raise ResourceNotFoundError(client_id)


def _masked(email):
    # Cognito names the destination masked, e.g. "a***@e***" (CodeDeliveryDetailsType.Destination).
    local, _, domain = (email or "").partition("@")
    return f"{local[:1]}***@{domain[:1]}***" if domain else "***"


# ResendConfirmationCode (API reference): sends a new confirmation code to an unconfirmed user and
# answers CodeDeliveryDetails. An unknown user is UserNotFoundException, unless the app client has
# PreventUserExistenceErrors ENABLED: then "account confirmation and password recovery return a
# response indicating a code was sent to a simulated destination" (Developer Guide, "Managing user
# existence error responses"). A confirmed user: InvalidParameterException "User is already
# confirmed." (as Cognito answers it).
def _resend_confirmation_code(self, client_id, username):
    pool = _pool_of_client(self, client_id)
    client = pool.clients[client_id]
    user = pool._get_user(username)
    if user is None:
        if client.extended_config.get("PreventUserExistenceErrors") == "ENABLED":
            return {"CodeDeliveryDetails": {"Destination": _masked(username), "DeliveryMedium": "EMAIL", "AttributeName": "email"}}
        raise UserNotFoundError("Username/client id combination not found.")
    if user.status == cognitoidp.UserStatus.CONFIRMED:
        raise InvalidParameterException("User is already confirmed.")
    email = flatten_attrs(user.attributes).get("email", username)
    return {"CodeDeliveryDetails": {"Destination": _masked(email), "DeliveryMedium": "EMAIL", "AttributeName": "email"}}


# RevokeToken (API reference): revokes a refresh token and the access tokens issued with it; the
# refresh token no longer signs in (REFRESH_TOKEN_AUTH: NotAuthorizedException "Refresh Token has
# been revoked"). The token must have been issued to the calling app client. A token Cognito does
# not know is answered as a success, as OAuth's revocation (RFC 7009, 2.2) answers it.
def _revoke_token(self, client_id, token):
    pool = _pool_of_client(self, client_id)
    issued = pool.refresh_tokens.get(token)
    if issued is None:
        return
    if issued[0] != client_id:
        raise NotAuthorizedError("The refresh token was not issued to this client.")
    pool.refresh_tokens[token] = None  # moto's mark of a signed-out refresh token


for _name in ("resend_confirmation_code", "revoke_token"):
    if hasattr(cognitoidp_responses.CognitoIdpResponse, _name):
        raise PatchDoesNotFit(
            f"moto_patches: moto {moto.__version__} implements CognitoIdpResponse.{_name} itself; "
            f"drop its stand-in from localcloud/src/moto_patches.py (or check it against AWS)"
        )

# These calls carry no credentials, so the backend is found by the app client, as moto does for
# the other unauthenticated operations.
_find_backend = _original(cognitoidp.RegionAgnosticBackend, "_find_backend_for_clientid", ("self", "client_id"))


def _backend_for(response, client_id):
    return _find_backend(cognitoidp.RegionAgnosticBackend(response.current_account, response.region), client_id)


def _resend_response(self):
    client_id = self._get_param("ClientId")
    answer = _resend_confirmation_code(_backend_for(self, client_id), client_id, self._get_param("Username"))
    return ActionResult(answer)


def _revoke_response(self):
    client_id = self._get_param("ClientId")
    _revoke_token(_backend_for(self, client_id), client_id, self._get_param("Token"))
    return EmptyResult()


cognitoidp_responses.CognitoIdpResponse.resend_confirmation_code = _resend_response
cognitoidp_responses.CognitoIdpResponse.revoke_token = _revoke_response


# The backends' state the patches read and write: attributes of instances, checked on a throwaway
# backend and pool made here (the server's own backends are not touched).
def _check_state():
    from moto.awslambda.models import LambdaBackend

    _original(LambdaBackend, "get_policy")
    backend = cognitoidp.CognitoIdpBackend("us-east-1", "123456789012")
    pool = backend.create_user_pool("patch-check", {})
    user = backend.admin_create_user(pool.id, "patch-check", "SUPPRESS", "Patch-check-1", [])
    wanted = [
        ("CognitoIdpBackend", backend, ("user_pools", "sessions")),
        ("CognitoIdpUserPool", pool, ("id", "arn", "clients", "users", "extended_config", "refresh_tokens")),
        ("CognitoIdpUser", user, ("id", "username", "password", "attributes")),
    ]
    for kind, obj, attrs in wanted:
        for attr in attrs:
            if not hasattr(obj, attr):
                raise PatchDoesNotFit(
                    f"moto_patches: moto {moto.__version__}'s {kind} has no attribute {attr!r}, which "
                    f"the Cognito patches use; rewrite them in localcloud/src/moto_patches.py"
                )

# The server starts in moto_start.py, after the IAM rules (moto_iam.py): localcloud/src/moto.rs
# runs the three files as one script.
