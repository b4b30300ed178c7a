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


# MessageAction RESEND "resends the invitation message to a user that already exists and resets
# the expiration limit on the user's account" with a new temporary password, the given one or one
# Cognito makes (AdminCreateUser, Cognito API Reference). It is the same user (same `sub`, so the
# same history); moto made a new one in its place. A user who has signed in (any status but
# FORCE_CHANGE_PASSWORD) has no invitation to resend: UnsupportedUserStateException.
class _UnsupportedUserState(JsonRESTError):
    def __init__(self, message):
        super().__init__("UnsupportedUserStateException", message)


def _resend_invitation(self, user_pool_id, username, temporary_password):
    user = self.admin_get_user(user_pool_id, username)
    if user.status != "FORCE_CHANGE_PASSWORD":
        raise _UnsupportedUserState(f"Resend not possible. {username} status is {user.status}.")
    user.password = temporary_password or f"Tmp-{secrets.token_urlsafe(9)}7a"
    return user


def _admin_create_user_vetted(self, user_pool_id, username, message_action, temporary_password, attributes):
    if message_action == "RESEND":
        user = _resend_invitation(self, user_pool_id, username, temporary_password)
    else:
        pool = self.describe_user_pool(user_pool_id)
        _run_pre_sign_up(pool, "PreSignUp_AdminCreateUser", username, attributes)
        user = _admin_create_user(self, user_pool_id, username, message_action, temporary_password, attributes)
    if message_action != "SUPPRESS":
        _mail_invitation(self.describe_user_pool(user_pool_id), user, username)
    return user


# The invitation e-mail AdminCreateUser sends unless MessageAction is SUPPRESS: the pool's
# InviteMessageTemplate with {username} and {####} (the temporary password) filled in, or
# Cognito's default text ("Your username is {username} and temporary password is {####}.",
# AdminCreateUserConfigType / MessageTemplateType, Cognito API Reference). Written to the local
# mailbox with the password masked: the file is in the log directory, and the host has the
# password from `provision users add` (its handout) already.
_DEFAULT_INVITE = ("Your temporary password", "Your username is {username} and temporary password is {####}.")
MASKED_PASSWORD = "<temporary password>"


def _mail_invitation(pool, user, username):
    template = (pool.extended_config.get("AdminCreateUserConfig") or {}).get("InviteMessageTemplate") or {}
    subject = template.get("EmailSubject") or _DEFAULT_INVITE[0]
    body = template.get("EmailMessage") or _DEFAULT_INVITE[1]
    email = next((a["Value"] for a in user.attributes if a.get("Name") == "email"), username)
    _mail({
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "userPoolId": pool.id,
        "protocol": "email",
        "endpoint": email,
        "subject": subject,
        "message": body.replace("{username}", username).replace("{####}", MASKED_PASSWORD),
    }, f"cognito: invitation e-mail to {email}: {subject}")


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
            f"moto patches: moto {moto.__version__} implements CognitoIdpResponse.{_name} itself; "
            f"drop its stand-in from localcloud/src/moto/cognito.py (or check it against AWS)"
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
