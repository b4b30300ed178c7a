//! The results bucket as the local cloud serves it (`localcloud/src/moto/s3.py`): presigned links
//! checked as S3 checks them (signature, expiry, the signer's IAM), nothing anonymous, CORS only
//! as the bucket's configuration allows, and a TLS-only bucket policy that does not lock out the
//! loopback. boto3 makes the links (a signer nobody here wrote); plain HTTP fetches them, as a
//! browser does.

use localcloud::moto::MotoServer;
use serde_json::json;

const SCRIPT: &str = r#"
import json, time, urllib.request, urllib.error, boto3, botocore

ACCOUNT = boto3.client("sts").get_caller_identity()["Account"]
BUCKET = "dev-results-" + ACCOUNT + "-us-west-2"
ORIGIN = "http://main.d1.amplifyapp.localhost:4510"
iam, s3 = boto3.client("iam"), boto3.client("s3")

# The function's role: objects under results/ only (what the stack grants).
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
iam.put_role_policy(RoleName="fn", PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"arn:aws:s3:::{BUCKET}/results/*"}]}))
user = iam.create_user(UserName="host")
iam.put_user_policy(UserName="host", PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role}]}))
k = iam.create_access_key(UserName="host")["AccessKey"]
creds = boto3.client("sts", aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"]).assume_role(
    RoleArn=role, RoleSessionName="fn")["Credentials"]
fn = boto3.client("s3", aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                  aws_session_token=creds["SessionToken"], config=botocore.config.Config(signature_version="s3v4", s3={"addressing_style": "path"}))

s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
    "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
    "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [
    {"AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": [ORIGIN], "MaxAgeSeconds": 3600}]})

def fetch(url, origin=None):
    headers = {"Origin": origin} if origin else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as r:
            return {"status": r.status, "bytes": len(r.read()), "acao": r.headers.get("Access-Control-Allow-Origin")}
    except urllib.error.HTTPError as e:
        body = e.read().decode()
        code = body.split("<Code>")[1].split("</Code>")[0] if "<Code>" in body else body
        message = body.split("<Message>")[1].split("</Message>")[0] if "<Message>" in body else ""
        return {"status": e.code, "code": code, "message": message, "acao": e.headers.get("Access-Control-Allow-Origin")}

def link(key, expires=60, client=fn):
    return client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=expires)

out = {}
fn.put_object(Bucket=BUCKET, Key="results/alice/01K/0.png", Body=b"\x89PNG" + b"a" * 100, ContentType="image/png")
fn.put_object(Bucket=BUCKET, Key="results/bob/01K/0.png", Body=b"\x89PNG" + b"b" * 50, ContentType="image/png")
good = link("results/alice/01K/0.png")
out["good"] = fetch(good, ORIGIN)
out["other_origin"] = fetch(good, "http://evil.localhost:1")
out["tampered"] = fetch(good.replace("/alice/", "/bob/"))
out["anonymous"] = fetch(good.split("?")[0])
short = link("results/alice/01K/0.png", expires=1)
time.sleep(2.5)
out["expired"] = fetch(short)
out["too_long"] = fetch(link("results/alice/01K/0.png", expires=604801))
s3.put_object(Bucket=BUCKET, Key="private/notes.txt", Body=b"x")
v2 = boto3.client("s3", aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                  aws_session_token=creds["SessionToken"], config=botocore.config.Config(signature_version="s3", s3={"addressing_style": "path"}))
out["signature_v2"] = fetch(link("results/alice/01K/0.png", client=v2))
out["outside_grant"] = fetch(link("private/notes.txt"))
# IAM actions are S3's, not the operations' names: HeadBucket needs s3:ListBucket, and DeleteObjects
# s3:DeleteObject on each key.
def host(name, actions, resource):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.client("s3", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                        config=botocore.config.Config(s3={"addressing_style": "path"}))
def status(f):
    try:
        f()
        return 200
    except botocore.exceptions.ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"]
lister, header = host("lister", ["s3:ListBucket"], f"arn:aws:s3:::{BUCKET}"), host("header", ["s3:HeadBucket"], "*")
out["head_with_list_bucket"] = status(lambda: lister.head_bucket(Bucket=BUCKET))
out["head_with_head_bucket"] = status(lambda: header.head_bucket(Bucket=BUCKET))
deleter = host("deleter", ["s3:DeleteObject"], f"arn:aws:s3:::{BUCKET}/*")
gone = deleter.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "private/notes.txt"}]})
out["delete_objects_errors"] = len(gone.get("Errors", []))
# A missing key: 404 only to a reader allowed s3:ListBucket, 403 to the function's role.
out["missing_to_the_role"] = fetch(link("results/alice/01K/9.png"))
reader = host("reader", ["s3:ListBucket", "s3:GetObject"], [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"])
out["missing_to_a_lister"] = status(lambda: reader.head_object(Bucket=BUCKET, Key="results/alice/01K/9.png"))
out["admin_reads_over_loopback"] = s3.get_object(Bucket=BUCKET, Key="results/alice/01K/0.png")["ContentType"]
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread")]
async fn presigned_links_are_checked_as_s3_checks_them() {
    let logs = tempfile::tempdir().expect("temp dir");
    let moto = MotoServer::start(&crate::root(), logs.path(), false).await.expect("moto starts");
    let got = crate::boto3(&moto, SCRIPT, &[]);
    let origin = "http://main.d1.amplifyapp.localhost:4510";
    assert_eq!(got["good"], json!({"status": 200, "bytes": 104, "acao": origin}), "{got:#}");
    assert_eq!(got["other_origin"]["status"], 200, "CORS is the browser's to enforce: {got:#}");
    assert_eq!(got["other_origin"]["acao"], json!(null), "no CORS for an origin the bucket does not name: {got:#}");
    assert_eq!(
        (got["tampered"]["status"].clone(), got["tampered"]["code"].clone()),
        (json!(403), json!("SignatureDoesNotMatch")),
        "{got:#}"
    );
    assert_eq!(
        (got["anonymous"]["status"].clone(), got["anonymous"]["code"].clone()),
        (json!(403), json!("AccessDenied")),
        "{got:#}"
    );
    assert_eq!(got["expired"]["status"], 403, "{got:#}");
    assert_eq!(got["expired"]["message"], "Request has expired", "{got:#}");
    assert_eq!(got["too_long"]["status"], 400, "{got:#}");
    assert_eq!(got["too_long"]["code"], "AuthorizationQueryParametersError", "{got:#}");
    assert_eq!(
        (got["outside_grant"]["status"].clone(), got["outside_grant"]["code"].clone()),
        (json!(403), json!("AccessDenied")),
        "{got:#}"
    );
    assert_eq!(got["signature_v2"]["code"], "InvalidRequest", "{got:#}");
    assert_eq!(got["head_with_list_bucket"], 200, "{got:#}");
    assert_eq!(got["head_with_head_bucket"], 403, "s3:HeadBucket is not an IAM action: {got:#}");
    assert_eq!(got["delete_objects_errors"], 0, "DeleteObjects is authorized per key: {got:#}");
    assert_eq!(
        (got["missing_to_the_role"]["status"].clone(), got["missing_to_the_role"]["code"].clone()),
        (json!(403), json!("AccessDenied")),
        "a missing key is not told apart without s3:ListBucket: {got:#}"
    );
    assert_eq!(got["missing_to_a_lister"], 404, "{got:#}");
    assert_eq!(
        got["admin_reads_over_loopback"], "image/png",
        "the TLS-only policy does not lock out the loopback: {got:#}"
    );
}
