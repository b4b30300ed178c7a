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
