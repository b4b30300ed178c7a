"""moto, made as strict as AWS where the product relies on it, then started like `moto.server`.

Each patch below names the AWS behaviour it reproduces and where that is documented. Run as
`python -c <this file> -H HOST -p PORT` (the arguments of moto.server).
"""

import base64
import json
import os
import sys
import threading
import urllib.error
import urllib.request

from moto.apigateway import models as apigateway
from moto.apigateway.exceptions import BadRequestException
from moto.cognitoidp import models as cognitoidp
from moto.cognitoidp.exceptions import InvalidParameterException, NotAuthorizedError
from moto.cognitoidp.utils import flatten_attrs
from moto.core.exceptions import JsonRESTError
from moto.dynamodb import models as dynamodb

# --- API Gateway: UpdateAuthorizer on providerARNs -----------------------------------------------
# API Gateway changes a Cognito authorizer's providerARNs with `add` and `remove` operations on
# the path `/providerARNs`, the ARN as the value; the list cannot become empty, so an ARN is
# replaced by adding the new one first (PatchOperation in the API Gateway API reference; the same
# operations in the AWS Terraform provider's authorizer resource). moto 5 raises on that path.
_authorizer_apply = apigateway.Authorizer.apply_operations


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

# --- DynamoDB: writes are atomic, transactions serializable ---------------------------------------
# "TransactWriteItems … all-or-nothing", with serializable isolation between transactions and
# standard writes (DynamoDB Developer Guide, "Amazon DynamoDB Transactions: How it works",
# "Isolation levels"). moto's server is threaded and its TransactWriteItems undoes a cancelled
# transaction by restoring a copy of the whole table taken before it: a concurrent write that
# lands in between is lost or, when a later copy is restored, counted twice (the daily image
# counters drifted under 20 concurrent requests). One lock around every write makes each write
# and each transaction happen whole, one at a time — stricter than DynamoDB, never looser.
_WRITE_LOCK = threading.RLock()


def _serialized(method):
    def run(self, *args, **kwargs):
        with _WRITE_LOCK:
            return method(self, *args, **kwargs)

    return run


for _name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"):
    setattr(dynamodb.DynamoDBBackend, _name, _serialized(getattr(dynamodb.DynamoDBBackend, _name)))

# --- Cognito: what UpdateUserPool cannot change --------------------------------------------------
# UsernameAttributes, AliasAttributes and UsernameConfiguration are set when a pool is created and
# are not parameters of UpdateUserPool (API reference, UpdateUserPool; "Changing user pool
# attributes after creation is not possible"). moto resets them to its defaults on every update.
_IMMUTABLE = ("UsernameAttributes", "AliasAttributes", "UsernameConfiguration")
_update_extended_config = cognitoidp.CognitoIdpUserPool.update_extended_config


def _keep_immutable(self, extended_config):
    kept = {k: v for k, v in getattr(self, "extended_config", {}).items() if k in _IMMUTABLE}
    _update_extended_config(self, extended_config)
    self.extended_config.update(kept)


cognitoidp.CognitoIdpUserPool.update_extended_config = _keep_immutable

# --- Cognito: case-insensitive user names ---------------------------------------------------------
# With UsernameConfiguration {CaseSensitive: false}, "user names and aliases are case insensitive"
# (API reference, UsernameConfigurationType): Alice@Example.com and alice@example.com are one
# user, for sign-in, lookups and the existence check of sign-up. moto ignores the setting.
_get_user = cognitoidp.CognitoIdpUserPool._get_user


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
_initiate_auth = cognitoidp.CognitoIdpBackend.initiate_auth


def _initiate_auth_checked(self, client_id, auth_flow, auth_parameters):
    for pool in self.user_pools.values():
        client = pool.clients.get(client_id)
        if client is None:
            continue
        allowed = client.extended_config.get("ExplicitAuthFlows") or []
        flow = str(auth_flow)
        if allowed and f"ALLOW_{flow}" not in allowed and flow not in allowed:
            raise InvalidParameterException(f"{flow} flow not enabled for this client")
    answer = _initiate_auth(self, client_id, auth_flow, auth_parameters)
    # USER_SRP_AUTH: Cognito's SECRET_BLOCK is base64 (an SRP client decodes it to sign the
    # claim); moto sends its session id as it is. Send it base64-encoded and accept it back so.
    # moto does not check the SRP proof itself: a wrong password still signs in this way, so the
    # local cloud keeps the password flow for its own sign-ins (see provisioner/src/stack.rs).
    params = answer.get("ChallengeParameters") or {}
    # NEW_PASSWORD_REQUIRED (an invited user's first sign-in): Cognito sends the user's attributes
    # and the required ones as JSON strings, which client libraries parse (API reference,
    # InitiateAuth, ChallengeParameters; amazon-cognito-identity-js reads `userAttributes`).
    # moto sends neither.
    if answer.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
        user = None
        for pool in self.user_pools.values():
            if client_id in pool.clients:
                user = pool._get_user((auth_parameters or {}).get("USERNAME"))
        if user is not None:
            attrs = {k: v for k, v in flatten_attrs(user.attributes).items() if k != "sub"}
            params.setdefault("userAttributes", json.dumps(attrs))
            params.setdefault("requiredAttributes", "[]")
            params.setdefault("USER_ID_FOR_SRP", user.username)
            answer["ChallengeParameters"] = params
    if answer.get("ChallengeName") == "PASSWORD_VERIFIER" and "SECRET_BLOCK" in params:
        raw = params["SECRET_BLOCK"]
        block = base64.b64encode(raw.encode()).decode()
        if raw in self.sessions:
            self.sessions[block] = self.sessions.pop(raw)
        params["SECRET_BLOCK"] = block
        answer["Session"] = block
    return answer


cognitoidp.CognitoIdpBackend.initiate_auth = _initiate_auth_checked

# --- Cognito: self sign-up off -------------------------------------------------------------------
# With AdminCreateUserConfig.AllowAdminCreateUserOnly, "only the administrator is allowed to create
# user profiles": SignUp fails with NotAuthorizedException "SignUp is not permitted for this user
# pool" (API reference, AdminCreateUserConfigType and SignUp). moto lets anyone sign up.
# (`_sign_up_checked` below, with the trigger.)
_sign_up = cognitoidp.CognitoIdpBackend.sign_up

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


_admin_create_user = cognitoidp.CognitoIdpBackend.admin_create_user


def _admin_create_user_vetted(self, user_pool_id, username, message_action, temporary_password, attributes):
    if message_action != "RESEND":
        pool = self.describe_user_pool(user_pool_id)
        _run_pre_sign_up(pool, "PreSignUp_AdminCreateUser", username, attributes)
    return _admin_create_user(self, user_pool_id, username, message_action, temporary_password, attributes)


cognitoidp.CognitoIdpBackend.sign_up = _sign_up_checked
cognitoidp.CognitoIdpBackend.admin_create_user = _admin_create_user_vetted

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
