"""moto, made as strict as AWS where the product relies on it, then started like `moto.server`.

localcloud/src/moto.rs runs the files of localcloud/src/moto/ as one script, in this order:
base.py (imports, the patch check), apigateway.py, dynamodb.py, cognito.py, logs.py, cloudwatch.py,
iam.py, s3.py, start.py — written to `<log dir>/moto-server.py` and run as `python moto-server.py -H HOST -p PORT`
(the arguments of moto.server). Each patch names the AWS behaviour it reproduces and where that is
documented.
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

# S3 answers CORS only as a bucket's CORS configuration says; moto's server would otherwise add
# `Access-Control-Allow-Origin: *` to every answer (s3.py). Read by moto.settings at import.
os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"

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
            f"moto patches: moto {moto.__version__} has no {where}; the patch of it in "
            f"localcloud/src/moto/ must be rewritten for this release"
        )
    actual = tuple(inspect.signature(found).parameters)
    if params is not None and actual != tuple(params):
        raise PatchDoesNotFit(
            f"moto patches: moto {moto.__version__} changed {where}{actual} (the patch expects "
            f"{tuple(params)}); rewrite its patch in localcloud/src/moto/"
        )
    return found


# --- The local mailbox: what AWS would e-mail --------------------------------------------------
# SNS (alarm notifications, cloudwatch.py) and Cognito (invitations, cognito.py) send e-mail on
# AWS. Locally each e-mail is one JSON line in <log dir>/notifications.jsonl (the directory is
# LOCALCLOUD_LOG_DIR, set by localcloud/src/moto.rs) and a line naming it in moto.log.
_mailbox_lock = threading.Lock()


def _mail(entry, summary):
    print(summary, file=sys.stderr, flush=True)
    directory = os.environ.get("LOCALCLOUD_LOG_DIR")
    if not directory:
        return
    with _mailbox_lock, open(os.path.join(directory, "notifications.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")

