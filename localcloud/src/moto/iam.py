# --- IAM: every request is authorized, as AWS authorizes it -------------------------------------
# AWS evaluates the caller's identity-based policies on every request ("Policy evaluation logic",
# IAM User Guide: an action is allowed only when some policy allows it on the request's resource
# and none denies it). moto can enforce that (its `access_control`), but by default never does.
# Here it always does, with these rules for who is calling:
# - An access key the local cloud issued — an IAM user's (AKIA…, CreateAccessKey) or temporary
#   credentials (ASIA…, AssumeRole: what the Lambda stand-in hands a function as its role) — is
#   checked as AWS checks it: the key, its session token, then that identity's policies (not the
#   signature: see below).
# - Any other key (`local`, `testing`, `test`: what people already use with the `aws` CLI and
#   boto3 against the local cloud) is the account's administrator, the account's root user.
#   Here, and in not recomputing signatures (below), the local cloud is looser than AWS; neither
#   is something the product's tests rely on.
import re as _re

from moto import settings as _moto_settings
from moto.core import DEFAULT_ACCOUNT_ID as _DEFAULT_ACCOUNT_ID
from moto.core.authorization import ActionAuthenticatorMixin as _Authenticator
from moto.core.responses import BaseResponse as _BaseResponse
from moto.iam import access_control as _access_control
from moto.moto_api._internal import urls as _moto_api_urls
from moto.utilities.utils import get_partition as _partition
from werkzeug.exceptions import HTTPException as _HTTPException

_moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = 0

_ADMIN_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


class _AccountAdministrator:
    """A key the local cloud did not issue: the account's root user, allowed everything."""

    def __init__(self, account_id, partition, access_key_id):
        self.account_id = account_id
        self.partition = partition
        self._access_key_id = access_key_id

    @property
    def arn(self):
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    def collect_policies(self):
        return [_ADMIN_POLICY]


class _ServicePrincipal(_AccountAdministrator):
    """An AWS service acting on its own behalf: the Lambda stand-in assumes a function's execution
    role as `lambda.amazonaws.com` (the access key id it signs with), which the role's trust policy
    must name, as Lambda needs ("Lambda execution role", Lambda Developer Guide). It may do
    nothing else."""

    @property
    def arn(self):
        return self._access_key_id

    def collect_policies(self):
        return [json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]})]


_SERVICE_PRINCIPALS = ("lambda.amazonaws.com",)


def _issued(access_key_id):
    # The prefixes AWS gives long-term (AKIA) and temporary (ASIA) access keys ("IAM identifiers",
    # IAM User Guide, "Understanding unique ID prefixes"); moto issues keys with the same prefixes.
    return access_key_id.startswith(("AKIA", "ASIA"))


_create_access_key = _access_control.create_access_key


def _create_access_key_or_administrator(account_id, partition, access_key_id, headers):
    if access_key_id in _SERVICE_PRINCIPALS:
        return _ServicePrincipal(account_id, partition, access_key_id)
    if not _issued(access_key_id):
        return _AccountAdministrator(account_id, partition, access_key_id)
    return _create_access_key(account_id, partition, access_key_id, headers)


if tuple(inspect.signature(_create_access_key).parameters) != ("account_id", "partition", "access_key_id", "headers"):
    raise PatchDoesNotFit(f"moto patches: moto {moto.__version__} changed access_control.create_access_key")
_access_control.create_access_key = _create_access_key_or_administrator

# The SigV4 signature itself is not recomputed: moto's recomputation (botocore's canonical request
# from the request as Werkzeug decoded it) disagrees with correct signatures of the AWS SDK for
# Rust for paths with reserved characters — Bedrock's `…/inference-profiles/us.stability.…-v1:0`,
# which the SDK encodes once more before signing, as SigV4 asks for every service but S3. The key
# id, its owner and the session token are checked; a wrong secret is the one thing not caught.
_original(_access_control.IAMRequestBase, "check_signature", ("self",))


def _signature_not_recomputed(self):
    return None


_access_control.IAMRequestBase.check_signature = _signature_not_recomputed


# A role is assumed only by a principal its trust policy names ("AssumeRole", STS API reference:
# "the trust policy of the role … specifies who can assume the role"). moto compares AWS
# principals only (and fails on a `Service` principal); the account's root user is trusted only
# through an AWS principal naming the account.
_check_role_trust_relationship = _original(
    _access_control.IAMRequestBase, "_check_role_trust_relationship", ("self", "role_arn")
)


def _principals(statement, kind):
    found = (statement.get("Principal") or {}) if isinstance(statement.get("Principal"), dict) else {}
    value = found.get(kind) or []
    return value if isinstance(value, list) else [value]


def _trusted(self, role_arn):
    key = self._access_key
    if not isinstance(key, _AccountAdministrator):
        return _check_role_trust_relationship(self, role_arn)
    role = self.backend.get_role_by_arn(role_arn)
    document = json.loads(role.assume_role_policy_document)
    statements = document.get("Statement") or []
    statements = statements if isinstance(statements, list) else [statements]
    root = f"arn:{key.partition}:iam::{key.account_id}:root"
    for statement in statements:
        actions = statement.get("Action") or []
        actions = actions if isinstance(actions, list) else [actions]
        if statement.get("Effect") != "Allow" or not any(_glob(a, "sts:AssumeRole", True) for a in actions):
            continue
        if isinstance(key, _ServicePrincipal):
            if key.arn in _principals(statement, "Service"):
                return True
        elif set(_principals(statement, "AWS")) & {root, key.account_id, "*"}:
            return True
    return False


_access_control.IAMRequestBase._check_role_trust_relationship = _trusted


# IAM matches Resource and Action patterns as globs: `*` any run of characters, `?` any one
# character, everything else literally ("IAM JSON policy elements: Resource", IAM User Guide).
# moto turns only `*` into a regular expression and leaves `.` and `?` as regex syntax, so
# `us.stability…` would also match `usXstability…`. Actions are matched case-insensitively;
# ARNs case-sensitively.
def _glob(pattern, string, ignore_case=False):
    parts = [".*" if c == "*" else "." if c == "?" else _re.escape(c) for c in pattern]
    return _re.match("^" + "".join(parts) + "$", string, _re.IGNORECASE if ignore_case else 0)


def _check_element_matches(self, statement_element, value):
    patterns = self._statement[statement_element]
    patterns = patterns if isinstance(patterns, list) else [patterns]
    ignore_case = statement_element in ("Action", "NotAction")
    return any(_glob(p, value, ignore_case) for p in patterns)


_original(_access_control.IAMPolicyStatement, "_check_element_matches", ("self", "statement_element", "value"))
_access_control.IAMPolicyStatement._check_element_matches = _check_element_matches


# The answer AWS gives a caller its policies do not allow: for the JSON protocols (DynamoDB,
# CloudWatch Logs, Cognito, Lambda, API Gateway…) AccessDeniedException, its message naming the
# principal, the action and the resource ("Troubleshoot access denied error messages", IAM User
# Guide: "User: arn:aws:sts::123456789012:assumed-role/R/S is not authorized to perform:
# dynamodb:PutItem on resource: arn:… because no identity-based policy allows the dynamodb:PutItem
# action"). Query-protocol services (IAM, STS, CloudFormation) answer AccessDenied in XML.
_QUERY_PROTOCOL = {"iam", "sts", "cloudformation"}
# The awsJson protocols answer client errors with 400 (DynamoDB: "AccessDeniedException … HTTP
# status code 400", API reference, Common errors); the REST-JSON ones with 403.
_AWS_JSON_PROTOCOL = {"dynamodb", "logs", "cognito-idp"}

_check_action_permitted = _original(_access_control.IAMRequestBase, "check_action_permitted", ("self", "resource"))


def _check_action_permitted_on(self, resource):
    self._resource = resource
    _check_action_permitted(self, resource)


_access_control.IAMRequestBase.check_action_permitted = _check_action_permitted_on


def _denied_message(principal, action, resource):
    on = f" on resource: {resource}" if resource and resource != "*" else ""
    return f"User: {principal} is not authorized to perform: {action}{on} because no identity-based policy allows the {action} action"


class _AccessDeniedXml(_access_control.AccessDeniedError):
    def __init__(self, message):
        # moto's AccessDeniedError words its message itself: the same XML error, in AWS's words.
        super(_access_control.AccessDeniedError, self).__init__("AccessDenied", message)


def _raise_access_denied(self):
    if self._service in _SERIALIZED_REFUSALS:  # SNS and CloudWatch: see below
        raise _refusal_for_access_denied(self)
    message = _denied_message(self._access_key.arn, self._action, getattr(self, "_resource", "*"))
    if self._service in _QUERY_PROTOCOL:
        raise _AccessDeniedXml(message)
    error = JsonRESTError("AccessDeniedException", message)
    error.code = 400 if self._service in _AWS_JSON_PROTOCOL else 403
    raise error


_original(_access_control.IAMRequest, "_raise_access_denied", ("self",))
_access_control.IAMRequest._raise_access_denied = _raise_access_denied

# A wrong signature or an unknown key, in the JSON protocols' terms (DynamoDB API reference,
# "Common errors": InvalidSignatureException, UnrecognizedClientException).
_raise_signature_does_not_match = _original(_access_control.IAMRequest, "_raise_signature_does_not_match", ("self",))
_raise_invalid_access_key = _original(_access_control.IAMRequest, "_raise_invalid_access_key", ("self", "_"))


def _json_signature_error(self):
    if self._service in _SERIALIZED_REFUSALS:
        raise _Refusal(*_BAD_SIGNATURE)
    if self._service in _QUERY_PROTOCOL:
        return _raise_signature_does_not_match(self)
    error = JsonRESTError(
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. Check your AWS "
        "Secret Access Key and signing method. Consult the service documentation for details.",
    )
    error.code = 400
    raise error


def _json_invalid_key(self, reason):
    if self._service in _SERIALIZED_REFUSALS:
        raise _Refusal(*_INVALID_KEY)
    if self._service in _QUERY_PROTOCOL:
        return _raise_invalid_access_key(self, reason)
    error = JsonRESTError("UnrecognizedClientException", "The security token included in the request is invalid.")
    error.code = 400
    raise error


_access_control.IAMRequest._raise_signature_does_not_match = _json_signature_error
_access_control.IAMRequest._raise_invalid_access_key = _json_invalid_key


# --- IAM: what is called without AWS credentials --------------------------------------------------
# Cognito's user-facing operations are not signed with SigV4: they are public or authorized by the
# user's own tokens ("Understanding API, OIDC, and managed login pages authentication", Cognito
# Developer Guide). moto exempts only seven of them; the web app also calls RespondToAuthChallenge
# (SRP), GlobalSignOut and RevokeToken without credentials.
def _unsigned_operations(service):
    # The operations the service model marks `"authtype": "none"`: Cognito's 31 public and
    # token-authorized ones (InitiateAuth, RespondToAuthChallenge, GlobalSignOut, …), whose
    # documentation says IAM policies are not evaluated for them.
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    return [name for name in model.operation_names if model.operation_model(name).auth_type == "none"]


for _operation in _unsigned_operations("cognito-idp"):
    _target = f"AWSCognitoIdentityProviderService.{_operation}"
    if _target not in _Authenticator.PUBLIC_OPERATIONS:
        _Authenticator.PUBLIC_OPERATIONS.append(_target)


# --- IAM: the resource of each request ------------------------------------------------------------
# moto authorizes most services' requests against the resource "*", which no statement with an
# exact ARN matches. The ARN each request acts on, as the Service Authorization Reference gives
# it per action (docs.aws.amazon.com/service-authorization/latest/reference/list_<service>.html):
def _json_body(response):
    if isinstance(response.body, dict):  # DynamoDB's handler swaps in its parsed parameters
        return response.body
    try:
        body = json.loads(response.body or "{}")
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _dynamodb_resource(self):
    # list_amazondynamodb.html: item and query actions on `table` (arn:…:table/NAME) or `index`
    # (arn:…:table/NAME/index/INDEX); TagResource and friends on the ARN they name.
    body = _json_body(self)
    if isinstance(body.get("ResourceArn"), str):
        return body["ResourceArn"]
    name = body.get("TableName")
    if not isinstance(name, str):
        return "*"
    arn = name if name.startswith("arn:") else (
        f"arn:{_partition(self.region)}:dynamodb:{self.region}:{self.current_account}:table/{name}"
    )
    if isinstance(body.get("IndexName"), str):
        arn += f"/index/{body['IndexName']}"
    return arn


def _logs_resource(self):
    # list_amazoncloudwatchlogs.html: CreateLogStream and PutLogEvents on `log-stream`
    # (arn:…:log-group:GROUP:log-stream:STREAM); the other log-group actions on the group, which
    # AWS checks as `arn:…:log-group:GROUP:log-stream:` (the string its AccessDenied messages
    # name; the Logs API reference asks policies for the `:*` form of a group's ARN, which matches
    # it); DescribeLogGroups and the like on "*".
    body = _json_body(self)
    if isinstance(body.get("resourceArn"), str):  # TagResource, UntagResource, ListTagsForResource
        return body["resourceArn"]
    group = body.get("logGroupName")
    if not isinstance(group, str):
        return "*"
    base = f"arn:{_partition(self.region)}:logs:{self.region}:{self.current_account}:log-group:{group}"
    stream = body.get("logStreamName")
    if isinstance(stream, str):
        return f"{base}:log-stream:{stream}"
    return f"{base}:log-stream:"


def _cognito_resource(self):
    # list_amazoncognitouserpools.html: the pool's operations on `userpool`
    # (arn:…:userpool/ID); CreateUserPool and ListUserPools on "*".
    pool = _json_body(self).get("UserPoolId")
    if not isinstance(pool, str):
        return "*"
    return f"arn:{_partition(self.region)}:cognito-idp:{self.region}:{self.current_account}:userpool/{pool}"


def _lambda_resource(self):
    # list_awslambda.html: a function's operations on `function` (arn:…:function:NAME); the tag
    # operations on the ARN in the path; ListFunctions and GetAccountSettings on "*".
    path = urllib.parse.unquote(self.path)
    parts = [p for p in path.split("/") if p]
    base = f"arn:{_partition(self.region)}:lambda:{self.region}:{self.current_account}:function:"
    if len(parts) >= 3 and parts[1] == "tags":
        return "/".join(parts[2:])
    if len(parts) >= 3 and parts[1] == "functions":
        name = parts[2]
        return name if name.startswith("arn:") else base + name.split(":")[0]
    if len(parts) == 2 and parts[1] == "functions" and self.method == "POST":
        name = _json_body(self).get("FunctionName")
        return base + name if isinstance(name, str) else "*"
    return "*"


def _iam_resource(self):
    # list_awsidentityandaccessmanagementiam.html: the role operations on `role`
    # (arn:…:iam::ACCOUNT:role/PATH/NAME). moto names the role only once it exists, so CreateRole
    # would be checked against "*".
    name = (self.data.get("RoleName") or [None])[0] if hasattr(self, "data") else None
    if not isinstance(name, str):
        return "*"
    path = (self.data.get("Path") or ["/"])[0]
    try:
        return self.backend.get_role(name).arn
    except Exception:
        return f"arn:{_partition(self.region)}:iam::{self.current_account}:role{path}{name}"


from moto.apigateway.responses import APIGatewayResponse as _APIGatewayResponse
from moto.awslambda.responses import LambdaResponse as _LambdaResponse
from moto.cognitoidp.responses import CognitoIdpResponse as _CognitoIdpResponse
from moto.iam.responses import IamResponse as _IamResponse

_original(_IamResponse, "_determine_resource", ("self",))
_IamResponse._determine_resource = _iam_resource


# API Gateway's IAM actions are the HTTP methods of its REST API (apigateway:GET, POST, PUT,
# PATCH, DELETE) on the path's ARN, arn:aws:apigateway:REGION::/restapis/… (list_amazonapigateway
# management.html: "Control access to API Gateway management", API Gateway Developer Guide).
class _ApiGatewayIAMRequest(_access_control.IAMRequest):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._action = f"apigateway:{self._method}"


def _apigateway_authorize(self, resource="*"):
    path = urllib.parse.unquote(self.path)
    arn = f"arn:{_partition(self.region)}:apigateway:{self.region}::{path}"
    self._authenticate_and_authorize_action(_ApiGatewayIAMRequest, arn)


_original(_APIGatewayResponse, "_authenticate_and_authorize_normal_action", ("self", "resource"))
_APIGatewayResponse._authenticate_and_authorize_normal_action = _apigateway_authorize


# CreateFunction and UpdateFunctionConfiguration with a role also need iam:PassRole on it
# ("Lambda execution role", Lambda Developer Guide: "the user … must have iam:PassRole").
class _PassRoleIAMRequest(_access_control.IAMRequest):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._action = "iam:PassRole"


_lambda_authorize_normal = _original(_LambdaResponse, "_authenticate_and_authorize_normal_action", ("self", "resource"))


def _lambda_authorize(self, resource="*"):
    _lambda_authorize_normal(self, resource)
    if self.method in ("POST", "PUT") and self._get_action() in ("CreateFunction", "UpdateFunctionConfiguration"):
        role = _json_body(self).get("Role")
        if isinstance(role, str):
            self._authenticate_and_authorize_action(_PassRoleIAMRequest, role)


_LambdaResponse._authenticate_and_authorize_normal_action = _lambda_authorize

from moto.dynamodb.responses import DynamoHandler as _DynamoHandler
from moto.logs.responses import LogsResponse as _LogsResponse

for _handler, _resource in (
    (_DynamoHandler, _dynamodb_resource),
    (_LogsResponse, _logs_resource),
    (_CognitoIdpResponse, _cognito_resource),
    (_LambdaResponse, _lambda_resource),
):
    if hasattr(_handler, "_determine_resource"):
        raise PatchDoesNotFit(f"moto patches: moto {moto.__version__}'s {_handler.__name__} determines resources itself")
    _handler._determine_resource = _resource
_original(_BaseResponse, "call_action", ("self",))


# --- IAM: SNS and CloudWatch ---------------------------------------------------------------------
# moto checks both on "*", CloudWatch as `monitoring:…` (its signing name, not its IAM prefix), and
# refuses in JSON. Here each resource named must be allowed (parameters as moto parsed the query
# string or CBOR body), and the refusal is the service's, in the request's protocol.
def _arn(self, service, region=True):
    return f"arn:{_partition(self.region)}:{service}:{self.region if region else ''}:{self.current_account}"


def _sns_resources(self):
    # list_amazonsns.html: topic actions on `topic*`, arn:…:sns:REGION:ACCOUNT:NAME, by TopicArn
    # (CreateTopic: Name); tag actions on ResourceArn; ListTopics and Unsubscribe on "*".
    if self._get_action() == "CreateTopic":
        return [f"{_arn(self, 'sns')}:{self._get_param('Name')}"]
    return [self._get_param("ResourceArn") or self._get_param("TopicArn") or "*"]


def _each(prefix, names):
    names = names if isinstance(names, list) and names else [""]
    return [prefix + (n if isinstance(n, str) else "") for n in names]


def _cloudwatch_resources(self):
    # list_amazoncloudwatch.html: alarm actions on arn:…:cloudwatch:REGION:ACCOUNT:alarm:NAME,
    # dashboard actions on arn:…:cloudwatch::ACCOUNT:dashboard/NAME, tag actions on ResourceARN;
    # the metric actions and ListDashboards on "*".
    action, param = self._get_action(), self._get_param
    alarm, board = _arn(self, "cloudwatch") + ":alarm:", _arn(self, "cloudwatch", False) + ":dashboard/"
    if action in ("TagResource", "UntagResource", "ListTagsForResource"):
        return [param("ResourceARN") or "*"]
    if action in ("PutMetricAlarm", "PutCompositeAlarm", "SetAlarmState", "DescribeAlarmHistory"):
        return [alarm + (param("AlarmName") or "*")]
    if action == "DescribeAlarms" and not param("AlarmNames"):
        # AWS then checks `alarm:*` (its AccessDenied: aws-samples/amazon-cloudwatch-auto-alarms#1).
        return [alarm + "*"]
    if action in ("DescribeAlarms", "DeleteAlarms", "EnableAlarmActions", "DisableAlarmActions"):
        # Each one; none: `alarm:` (AWS's AccessDenied for DeleteAlarms([]), same repository #18).
        return _each(alarm, param("AlarmNames"))
    if action in ("PutDashboard", "GetDashboard", "DeleteDashboards"):
        return _each(board, param("DashboardNames") or [param("DashboardName")])
    return ["*"]


class _CloudWatchIAMRequest(_access_control.IAMRequest):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._action = "cloudwatch:" + self._action.split(":", 1)[1]


class _Refusal(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


_SERIALIZED_REFUSALS = {"sns", "monitoring"}  # signing names
# Common errors (SNS and CloudWatch API references), HTTP 403.
_INVALID_KEY = ("InvalidClientTokenId", "The security token included in the request is invalid.")
_BAD_SIGNATURE = ("SignatureDoesNotMatch", "The request signature we calculated does not match the signature "
                  "you provided. Check your AWS Secret Access Key and signing method.")


def _refusal_for_access_denied(self):
    resource = getattr(self, "_resource", "*")
    if self._service == "sns":
        # AuthorizationError, 403 (SNS API reference), "…perform: SNS:Publish on resource: arn:…"
        # (aws-ia/terraform-aws-control_tower_account_factory#151).
        action = "SNS:" + self._action.split(":", 1)[1]
        return _Refusal("AuthorizationError", _denied_message(self._access_key.arn, action, resource))
    # "(AccessDenied) when calling the DeleteAlarms operation: User: … is not authorized to
    # perform: cloudwatch:DeleteAlarms on resource: …" (#18 above).
    return _Refusal("AccessDenied", _denied_message(self._access_key.arn, self._action, resource))


class _ProtocolError(_HTTPException):
    # call_action answers one raised while authorizing with its description and code.
    def __init__(self, body):
        super().__init__(description=body)
        self.code = 403


def _refusal_response(self, refusal):
    from moto.core import cbor
    from moto.core.request import determine_request_protocol
    from moto.core.utils import get_service_model

    model = get_service_model(self.boto3_service_name)
    if determine_request_protocol(model, self.normalized_request) == "smithy-rpc-v2-cbor":
        # "Smithy RPC v2 CBOR protocol" (smithy.io): a map of `__type` (shape id, namespaced as by
        # moto) and `message`. CloudWatch is awsQueryCompatible: `x-amzn-query-error` carries the
        # query code, which SDKs report (the Rust SDK prefers it to `__type`).
        self.response_headers.update({"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor",
                                      "x-amzn-query-error": f"{refusal.code};Sender"})
        return _ProtocolError(cbor.dumps({"__type": f"{model.metadata['targetPrefix']}#{refusal.code}",
                                          "message": refusal.message}))
    # The query protocol's <ErrorResponse><Error>…; moto's own query errors wrap Error in Errors,
    # where the Rust SDK finds no code. moto fills in the RequestId.
    self.response_headers["Content-Type"] = "text/xml"
    text = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"}
    return _ProtocolError(
        f'<ErrorResponse xmlns="{model.metadata["xmlNamespace"]}"><Error><Type>Sender</Type>'
        f"<Code>{refusal.code}</Code><Message>{refusal.message.translate(text)}</Message></Error>"
        f"<RequestId>x</RequestId></ErrorResponse>"
    )


def _authorize_each(request_cls, resources):
    def authorize(self, resource="*"):
        try:
            for each in resources(self):
                self._authenticate_and_authorize_action(request_cls, each)
        except _Refusal as refusal:
            raise _refusal_response(self, refusal) from None

    return authorize


from moto.cloudwatch.responses import CloudWatchResponse as _CloudWatchResponse
from moto.sns.responses import SNSResponse as _SNSResponse

for _handler, _request_cls, _resources in (
    (_SNSResponse, _access_control.IAMRequest, _sns_resources),
    (_CloudWatchResponse, _CloudWatchIAMRequest, _cloudwatch_resources),
):
    if not _handler().automated_parameter_parsing or "_authenticate_and_authorize_normal_action" in vars(_handler):
        raise PatchDoesNotFit(f"moto patches: moto {moto.__version__} changed how {_handler.__name__} authorizes")
    _original(_handler, "_authenticate_and_authorize_normal_action", ("self", "resource"))
    _handler._authenticate_and_authorize_normal_action = _authorize_each(_request_cls, _resources)


# --- IAM: the stand-ins outside moto ask here --------------------------------------------------------
# The Bedrock, Amplify and Service Quotas stand-ins are not part of moto; they authorize each
# request through this endpoint, so one evaluator (moto's, with the rules above) decides for all.
# POST {"accessKeyId", "sessionToken"?, "region", "action", "resources": [...]} →
# {"allowed": bool, "principal": ARN, "denied": the first resource not allowed, "message"} or, for
# a key the local cloud never issued, 403 {"code": "UnrecognizedClientException"}.
def _authorize(request, full_url, headers):
    try:
        ask = json.loads(request.data or b"{}")
        key_id = ask["accessKeyId"]
        action = ask["action"]
        resources = ask.get("resources") or ["*"]
        region = ask.get("region") or "us-east-1"
    except (KeyError, TypeError, ValueError) as e:
        return 400, {}, json.dumps({"code": "BadRequest", "message": f"authorize: {e!r} in {request.data!r}"})
    caller_headers = {"X-Amz-Security-Token": ask["sessionToken"]} if ask.get("sessionToken") else {}
    account = ask.get("account") or _DEFAULT_ACCOUNT_ID
    try:
        key = _access_control.create_access_key(account, _partition(region), key_id, caller_headers)
    except _access_control.CreateAccessKeyFailure as e:
        return 403, {}, json.dumps({
            "code": "UnrecognizedClientException",
            "message": "The security token included in the request is invalid.",
            "reason": e.reason,
        })
    policies = key.collect_policies()
    for resource in resources:
        allowed = False
        for policy in policies:
            result = _access_control.IAMPolicy(policy).is_action_permitted(action, resource)
            if result == _access_control.PermissionResult.DENIED:
                allowed = False
                break
            if result == _access_control.PermissionResult.PERMITTED:
                allowed = True
        if not allowed:
            return 200, {}, json.dumps({
                "allowed": False,
                "principal": key.arn,
                "denied": resource,
                "message": _denied_message(key.arn, action, resource),
            })
    return 200, {}, json.dumps({"allowed": True, "principal": key.arn})


_moto_api_urls.url_paths["{0}/moto-api/localcloud/authorize"] = _authorize
