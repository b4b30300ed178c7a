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
        ("CognitoIdpUser", user, ("id", "username", "password", "attributes", "status")),
    ]
    for kind, obj, attrs in wanted:
        for attr in attrs:
            if not hasattr(obj, attr):
                raise PatchDoesNotFit(
                    f"moto patches: moto {moto.__version__}'s {kind} has no attribute {attr!r}, which "
                    f"the Cognito patches use; rewrite them in localcloud/src/moto/cognito.py"
                )


# --- Start: check the backends' state the patches use, then serve as `moto.server` ----------------
if __name__ == "__main__":
    from moto.server import main

    _check_state()
    start_alarm_evaluation()
    print(f"moto patches: moto {moto.__version__}, every patch fits", file=sys.stderr, flush=True)
    main(sys.argv[1:])
