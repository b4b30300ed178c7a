# --- S3: presigned links as AWS checks them, no anonymous access, bucket policies' conditions -----
# The function keeps each image in the stack's results bucket and hands the browser presigned GET
# links (lambda/src/results.rs). moto serves the objects, but on its own it would take any
# presigned URL (it checks neither the signature nor the expiry), fail on one with a 500 (its IAM
# check reads an Authorization header such a request does not have), answer anonymous requests,
# and deny every request to a bucket with a TLS-only policy (it ignores the `Bool` condition, so
# the Deny always applies). Here:
# - A query-signed request (`X-Amz-Algorithm=AWS4-HMAC-SHA256`, "Authenticating Requests: Using
#   Query Parameters (AWS Signature Version 4)", Amazon S3 API Reference) is checked as S3 checks
#   it: X-Amz-Expires from 1 to 604800 seconds (else 400 AuthorizationQueryParametersError), not
#   past X-Amz-Date + X-Amz-Expires (else 403 AccessDenied "Request has expired"), the signature
#   recomputed with the secret of the key it names (else 403 SignatureDoesNotMatch), the session
#   token checked. It then goes through the IAM check of its signer, as a signed request does:
#   a link works only while its signer may still read the object.
# - A request with no signature at all is refused (403 AccessDenied): buckets the product makes
#   block all public access, and nothing of the product reads S3 anonymously.
# - A bucket policy's `Bool` condition on `aws:SecureTransport` is evaluated. The local cloud has
#   no TLS, so a loopback request counts as secure: the one place the local cloud trusts plain
#   HTTP, because it never leaves the machine (docs/architecture.md says so).
# - CORS: moto's server puts `Access-Control-Allow-Origin: *` on every answer unless told not to
#   (MOTO_DISABLE_GLOBAL_CORS, set in base.py before moto is imported), so a page could read any
#   bucket; S3 answers CORS only as the bucket's CORS configuration allows ("CORS configuration",
#   S3 User Guide), which moto's S3 does on its own once the global headers are off.
import datetime as _datetime
import hashlib as _hashlib
import hmac as _hmac

from moto.s3 import models as _s3_models
from moto.s3 import exceptions as _s3_exceptions
from moto.s3 import responses as _s3_responses

_MAX_EXPIRES = 604800  # seven days: "X-Amz-Expires must be less than a week (in seconds)"


def _s3_error(status, code, message, **extra):
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in extra.items())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>{fields}"
        f"<RequestId>{os.urandom(8).hex().upper()}</RequestId></Error>"
    )
    return status, {"content-type": "application/xml"}, body.encode()


def _uri_encode(s):
    return urllib.parse.quote(s, safe="-_.~")


def _canonical_query(raw_query):
    pairs = []
    for part in raw_query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        name, value = urllib.parse.unquote(name), urllib.parse.unquote(value)
        if name == "X-Amz-Signature":
            continue
        pairs.append((_uri_encode(name), _uri_encode(value)))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def _hmac_sha256(key, msg):
    return _hmac.new(key, msg.encode(), _hashlib.sha256).digest()


def _query_signature(secret, method, raw_path, raw_query, headers, signed_headers, amz_date, scope):
    canonical_headers = "".join(
        f"{h}:{' '.join(str(headers.get(h, '')).split())}\n" for h in signed_headers.split(";")
    )
    payload = urllib.parse.parse_qs(raw_query).get("X-Amz-Content-Sha256", ["UNSIGNED-PAYLOAD"])[0]
    canonical = "\n".join(
        [method, raw_path, _canonical_query(raw_query), canonical_headers, signed_headers, payload]
    )
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, _hashlib.sha256(canonical.encode()).hexdigest()]
    )
    date, region, service, terminal = scope.split("/")
    key = _hmac_sha256(("AWS4" + secret).encode(), date)
    for part in (region, service, terminal):
        key = _hmac_sha256(key, part)
    return _hmac.new(key, to_sign.encode(), _hashlib.sha256).hexdigest()


def _raw_target(request):
    """The path and query exactly as the client sent them (the signature covers these bytes)."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        raw = urllib.parse.quote(request.environ.get("PATH_INFO", "/"))
        query = request.environ.get("QUERY_STRING", "")
        raw = f"{raw}?{query}" if query else raw
    path, _, query = raw.partition("?")
    return path, query


def _presigned_refusal(request):
    """None when the query-signed request may go on (its Authorization header then set from the
    query, for moto's IAM check); else the answer S3 gives."""
    raw_path, raw_query = _raw_target(request)
    q = {k: v[0] for k, v in urllib.parse.parse_qs(raw_query, keep_blank_values=True).items()}
    try:
        credential = q["X-Amz-Credential"]
        amz_date = q["X-Amz-Date"]
        expires = int(q["X-Amz-Expires"])
        signed_headers = q["X-Amz-SignedHeaders"]
        signature = q["X-Amz-Signature"]
        key_id, scope = credential.split("/", 1)
        signed_at = _datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=_datetime.timezone.utc)
    except (KeyError, ValueError):
        return _s3_error(400, "AuthorizationQueryParametersError",
                         "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
                         "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
    if not 1 <= expires <= _MAX_EXPIRES:
        return _s3_error(400, "AuthorizationQueryParametersError",
                         "X-Amz-Expires must be less than a week (in seconds) that is; 604800")
    now = _datetime.datetime.now(_datetime.timezone.utc)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    if now > signed_at + _datetime.timedelta(seconds=expires):
        return _s3_error(403, "AccessDenied", "Request has expired", **{
            "X-Amz-Expires": expires,
            "Expires": (signed_at + _datetime.timedelta(seconds=expires)).strftime(fmt),
            "ServerTime": now.strftime(fmt),
        })
    token = q.get("X-Amz-Security-Token")
    caller_headers = {"X-Amz-Security-Token": token} if token else {}
    region = scope.split("/")[1] if scope.count("/") == 3 else "us-east-1"
    try:
        key = _access_control.create_access_key(_DEFAULT_ACCOUNT_ID, _partition(region), key_id, caller_headers)
    except _access_control.CreateAccessKeyFailure as e:
        if e.reason == "InvalidToken":
            return _s3_error(400, "InvalidToken", "The provided token is malformed or otherwise invalid.")
        return _s3_error(403, "InvalidAccessKeyId",
                         "The AWS Access Key Id you provided does not exist in our records.")
    secret = getattr(key, "_secret_access_key", None)
    # A key the local cloud did not issue is the account's administrator (iam.py), whose secret
    # nobody registered: its signature cannot be recomputed, as for its signed requests.
    if secret is not None:
        headers = {k.lower(): v for k, v in request.headers.items()}
        expected = _query_signature(secret, request.method, raw_path, raw_query, headers, signed_headers,
                                    amz_date, scope)
        if not _hmac.compare_digest(expected, signature):
            return _s3_error(403, "SignatureDoesNotMatch",
                             "The request signature we calculated does not match the signature you provided. "
                             "Check your key and signing method.")
    request.environ["HTTP_AUTHORIZATION"] = (
        f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed_headers}, Signature={signature}"
    )
    if token:
        request.environ["HTTP_X_AMZ_SECURITY_TOKEN"] = token
    return None


def _checked(dispatch):
    def dispatch_checked(cls, request, *args, **kwargs):
        if request.method != "OPTIONS" and "Authorization" not in request.headers:
            query = request.environ.get("QUERY_STRING") or ""
            if "X-Amz-Algorithm=" in query:
                refusal = _presigned_refusal(request)
            elif "AWSAccessKeyId=" in query:
                # Signature Version 2 is off for buckets made since 24 June 2020 ("Amazon S3 will
                # no longer support Signature Version 2", AWS News Blog; S3 API Reference,
                # "Authenticating Requests (AWS Signature Version 4)").
                refusal = _s3_error(400, "InvalidRequest", "The authorization mechanism you have provided is not "
                                    "supported. Please use AWS4-HMAC-SHA256.")
            else:
                refusal = _s3_error(403, "AccessDenied", "Access Denied")
            if refusal is not None:
                return refusal
        return _missing_key_for(request, dispatch.__func__(cls, request, *args, **kwargs))

    return classmethod(dispatch_checked)


def _missing_key_for(request, response):
    """S3 tells a missing key apart (404 NoSuchKey) only to a caller allowed s3:ListBucket on the
    bucket; anyone else gets 403 AccessDenied and learns nothing of which keys exist ("GetObject"
    and "HeadObject", Amazon S3 API Reference, Permissions). moto answers 404 to everyone."""
    if request.method not in ("GET", "HEAD") or not isinstance(response, tuple) or response[0] != 404:
        return response
    bucket, _, key = request.path.lstrip("/").partition("/")
    body = response[2] if len(response) > 2 else b""
    body = body.encode() if isinstance(body, str) else (body or b"")
    if not key or (request.method == "GET" and b"NoSuchKey" not in body):
        return response
    if bucket not in _s3_models.s3_backends[_DEFAULT_ACCOUNT_ID][_partition("us-east-1")].buckets:
        return response
    try:
        _S3ActionIAMRequest(_DEFAULT_ACCOUNT_ID, request.method, request.path, {}, b"", request.headers,
                            "ListBucket").check_action_permitted(f"arn:aws:s3:::{bucket}")
    except (_s3_exceptions.BucketAccessDeniedError, _s3_exceptions.S3AccessDeniedError):
        return _s3_error(403, "AccessDenied", "Access Denied")
    return response


for _name in ("bucket_dispatch", "key_dispatch", "ambiguous_dispatch"):
    _original(_s3_responses.S3Response, _name)
    setattr(_s3_responses.S3Response, _name, _checked(getattr(_s3_responses.S3Response, _name)))


# A bucket policy's conditions: `Bool` on aws:SecureTransport evaluated (true on loopback);
# statements whose condition does not hold are left out before moto evaluates the rest.
_get_permission = _original(_s3_models.FakeBucket, "get_permission", ("self", "action", "resource"))
_LOCAL_CONTEXT = {"aws:securetransport": "true"}


def _condition_holds(condition):
    for operator, tests in condition.items():
        if operator != "Bool":
            continue
        for key, wanted in tests.items():
            wanted = [wanted] if isinstance(wanted, str) else wanted
            actual = _LOCAL_CONTEXT.get(key.lower())
            if actual is None or actual not in [str(w).lower() for w in wanted]:
                return False
    return True


def _get_permission_with_conditions(self, action, resource):
    if self.policy is None:
        return _get_permission(self, action, resource)
    policy = json.loads(self.policy.decode() if isinstance(self.policy, bytes) else self.policy)
    statements = policy.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    kept = []
    for statement in statements:
        condition = statement.get("Condition", {})
        if not _condition_holds(condition):
            continue
        # Held: moto would ignore the operator anyway; leave it out so nothing reads it again.
        rest = {op: tests for op, tests in condition.items() if op != "Bool"}
        kept.append({k: v for k, v in statement.items() if k != "Condition"} | ({"Condition": rest} if rest else {}))
    if not kept:
        return _access_control.PermissionResult.NEUTRAL
    return _access_control.IAMPolicy(json.dumps({**policy, "Statement": kept})).is_action_permitted(action, resource)


_s3_models.FakeBucket.get_permission = _get_permission_with_conditions


# The IAM action each S3 request is authorized as: moto asks IAM for `s3:<operation name>`, but
# S3's actions are not always the operations' names (Service Authorization Reference, "Actions
# defined by Amazon S3"; each operation's page in the S3 API Reference names its permission): a
# policy that allows s3:ListBucket must allow HeadBucket, and one that allows only
# s3:HeadBucket (not an action) must not. The operations the product and its tests use that differ:
_IAM_ACTION_OF = {
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "HeadObject": "GetObject",
    "DeleteObjects": "DeleteObject",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetBucketCors": "GetBucketCORS",
    "PutBucketCors": "PutBucketCORS",
    "DeleteBucketCors": "PutBucketCORS",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
    "DeleteBucketTagging": "PutBucketTagging",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListParts": "ListMultipartUploadParts",
}
_S3IAMRequest = _access_control.S3IAMRequest
if tuple(inspect.signature(_S3IAMRequest.__init__).parameters) != (
    "self", "account_id", "method", "path", "data", "body", "headers", "action"
):
    raise PatchDoesNotFit(f"moto patches: moto {moto.__version__} changed S3IAMRequest; rewrite s3.py")


class _S3ActionIAMRequest(_S3IAMRequest):
    def __init__(self, account_id, method, path, data, body, headers, action):
        name = action[0] if isinstance(action, list) else action
        super().__init__(account_id, method, path, data, body, headers, _IAM_ACTION_OF.get(name, name))


# Looked up by name at each check (core/authorization.py imports it inside the method).
_access_control.S3IAMRequest = _S3ActionIAMRequest


# DeleteObjects is authorized per key: "you must have the s3:DeleteObject permission for the
# objects" ("DeleteObjects", S3 API Reference), so a policy on `bucket/*` allows it. moto checks
# s3:DeleteObject on the bucket's own ARN instead. Here every key is checked; if any is refused,
# moto's unauthenticated path answers AccessDenied for each key (stricter than S3, which refuses
# only those keys).
_bucket_response_post = _original(_s3_responses.S3Response, "_bucket_response_post", ("self", "request", "bucket_name"))
_delete_keys = _original(_s3_responses.S3Response, "_bucket_response_delete_keys", ("self", "bucket_name", "authenticated"))


def _bucket_response_post_per_key(self, request, bucket_name):
    if not request.headers.get("Content-Length"):
        return _bucket_response_post(self, request, bucket_name)
    self.path = self._get_path(request)
    if not self.is_delete_keys():
        return _bucket_response_post(self, request, bucket_name)
    import xmltodict

    objects = xmltodict.parse(self.body, strip_whitespace=False).get("Delete", {}).get("Object", [])
    objects = objects if isinstance(objects, list) else [objects]
    try:
        for obj in objects:
            self._authenticate_and_authorize_s3_action(bucket_name=bucket_name, key_name=obj.get("Key", ""))
    except (_s3_exceptions.BucketAccessDeniedError, _s3_exceptions.S3AccessDeniedError):
        return _delete_keys(self, bucket_name, authenticated=False)
    return _delete_keys(self, bucket_name, authenticated=True)


_s3_responses.S3Response._bucket_response_post = _bucket_response_post_per_key
