//! The Cognito endpoint browsers call, served by the stand-ins in front of a real moto: the
//! preflight is answered as Cognito answers it, every operation reaches moto through the real
//! `aws-sdk-cognitoidentityprovider` client, and every answer (errors too) carries the CORS headers
//! a page needs to read it. And moto itself: the patches that make it strict check, at start-up,
//! that what they replace is still there.

use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ExplicitAuthFlowsType};
use localcloud::cognito::{ALLOWED_HEADERS, ALLOWED_METHODS, EXPOSED_HEADERS};
use localcloud::moto::{MotoServer, free_port};

const ORIGIN: &str = "http://main.d1example.amplifyapp.localhost:4000";

struct Cloud {
    _moto: MotoServer,
    _logs: tempfile::TempDir,
    endpoint: String,
}

async fn cloud() -> Cloud {
    let logs = tempfile::tempdir().expect("temp dir");
    let moto = MotoServer::start(&crate::root(), logs.path(), false).await.expect("moto starts");
    let port = free_port().expect("port");
    let cfg = localcloud::StandInConfig { port, moto: moto.endpoint.clone(), log_dir: logs.path().to_owned() };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    tokio::spawn(async move { localcloud::serve_on(listener, cfg).await });
    Cloud { _moto: moto, _logs: logs, endpoint: format!("http://127.0.0.1:{port}") }
}

async fn sdk(endpoint: &str) -> aws_sdk_cognitoidentityprovider::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-west-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_cognitoidentityprovider::config::Credentials::new("t", "t", None, None, "t"))
        .load()
        .await;
    aws_sdk_cognitoidentityprovider::Client::new(&config)
}

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> &'a str {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

#[tokio::test]
async fn browsers_reach_cognito_through_the_stand_in_as_on_aws() {
    let cloud = cloud().await;
    let http = reqwest::Client::new();

    // The browser's preflight before InitiateAuth: what amazon-cognito-identity-js sends.
    let pre = http
        .request(reqwest::Method::OPTIONS, format!("{}/", cloud.endpoint))
        .header("Origin", ORIGIN)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "cache-control,content-type,x-amz-target,x-amz-user-agent")
        .send()
        .await
        .expect("preflight");
    assert_eq!(pre.status(), 200, "the preflight is answered (moto 5.2.6 answered it 500)");
    assert_eq!(header(&pre, "access-control-allow-origin"), "*");
    assert_eq!(header(&pre, "access-control-allow-methods"), ALLOWED_METHODS);
    for h in ["cache-control", "content-type", "x-amz-target", "x-amz-user-agent"] {
        assert!(header(&pre, "access-control-allow-headers").split(',').any(|a| a == h), "{h} is allowed");
    }
    assert_eq!(header(&pre, "access-control-allow-headers"), ALLOWED_HEADERS);
    assert_eq!(header(&pre, "access-control-max-age"), "172800");

    // The control plane, through the real SDK client, as the provisioner calls it.
    let cognito = sdk(&cloud.endpoint).await;
    let pool = cognito.create_user_pool().pool_name("cors-check").send().await.expect("CreateUserPool");
    let pool_id = pool.user_pool().and_then(|p| p.id()).expect("pool id").to_owned();
    let client = cognito
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("web")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .expect("CreateUserPoolClient");
    let client_id = client.user_pool_client().and_then(|c| c.client_id()).expect("client id").to_owned();

    // The page's own call: unsigned, JSON 1.1, and its error answer must be readable by the page.
    let call = |target: &str, body: serde_json::Value| {
        http.post(format!("{}/", cloud.endpoint))
            .header("Origin", ORIGIN)
            .header("Content-Type", "application/x-amz-json-1.1")
            .header("X-Amz-Target", target)
            .header("X-Amz-User-Agent", "aws-amplify/5.0.4 js")
            .body(body.to_string())
            .send()
    };
    let wrong = call(
        "AWSCognitoIdentityProviderService.InitiateAuth",
        serde_json::json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "nobody@example.com", "PASSWORD": "Wrong-pass-1"}}),
    )
    .await
    .expect("InitiateAuth");
    assert_eq!(wrong.status(), 400);
    assert_eq!(header(&wrong, "access-control-allow-origin"), "*", "an error answer is readable by the page");
    assert_eq!(header(&wrong, "access-control-expose-headers"), EXPOSED_HEADERS);
    let body: serde_json::Value = wrong.json().await.expect("JSON error");
    assert!(
        body["__type"]
            .as_str()
            .is_some_and(|t| t.ends_with("UserNotFoundException") || t.ends_with("NotAuthorizedException")),
        "Cognito's own error reaches the page: {body}"
    );

    // A user signs in through the stand-in with the SDK too (a real answer, not only errors).
    cognito
        .admin_create_user()
        .user_pool_id(&pool_id)
        .username("ada@example.com")
        .temporary_password("Temp-pass-2026")
        .send()
        .await
        .expect("AdminCreateUser");
    cognito
        .admin_set_user_password()
        .user_pool_id(&pool_id)
        .username("ada@example.com")
        .password("Real-pass-2026")
        .permanent(true)
        .send()
        .await
        .expect("AdminSetUserPassword");
    let signed_in = cognito
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "ada@example.com")
        .auth_parameters("PASSWORD", "Real-pass-2026")
        .send()
        .await
        .expect("InitiateAuth through the stand-in");
    assert!(signed_in.authentication_result().and_then(|r| r.id_token()).is_some());

    // What moto lacks and the web app calls: a new sign-up code, and revoking the refresh token.
    let refresh = signed_in.authentication_result().and_then(|r| r.refresh_token()).expect("refresh token").to_owned();
    cognito.revoke_token().client_id(&client_id).token(&refresh).send().await.expect("RevokeToken");
    let refused = cognito
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", &refresh)
        .send()
        .await
        .expect_err("a revoked refresh token no longer signs in");
    assert!(refused.as_service_error().is_some_and(|e| e.is_not_authorized_exception()), "{refused:?}");
    cognito
        .sign_up()
        .client_id(&client_id)
        .username("grace@example.com")
        .password("Grace-pass-2026")
        .send()
        .await
        .expect("SignUp");
    let resent = cognito
        .resend_confirmation_code()
        .client_id(&client_id)
        .username("grace@example.com")
        .send()
        .await
        .expect("ResendConfirmationCode");
    let delivery = resent.code_delivery_details().expect("CodeDeliveryDetails");
    assert_eq!(delivery.destination(), Some("g***@e***"), "the destination is masked as Cognito masks it");
    let confirmed = cognito
        .resend_confirmation_code()
        .client_id(&client_id)
        .username("ada@example.com")
        .send()
        .await
        .expect_err("a confirmed user gets no new code");
    assert!(confirmed.as_service_error().is_some_and(|e| e.is_invalid_parameter_exception()), "{confirmed:?}");

    // The pool's published keys, where Cognito publishes them.
    let jwks = http
        .get(format!("{}/{pool_id}/.well-known/jwks.json", cloud.endpoint))
        .header("Origin", ORIGIN)
        .send()
        .await
        .expect("JWKS");
    assert_eq!(jwks.status(), 200);
    assert_eq!(header(&jwks, "access-control-allow-origin"), "*");

    // Another service's operation is not Cognito's.
    let other = call("DynamoDB_20120810.ListTables", serde_json::json!({})).await.expect("ListTables");
    assert_eq!(other.status(), 400);
    let body: serde_json::Value = other.json().await.expect("JSON");
    assert_eq!(body["__type"], "UnknownOperationException");
}

/// A moto release whose internals no longer fit a patch stops at start-up, naming the attribute,
/// instead of serving wrong answers.
#[test]
fn a_patch_that_no_longer_fits_moto_stops_it_at_start_naming_the_attribute() {
    let python = localcloud::moto::installed(&crate::root()).unwrap_or_else(|e| panic!("{e}"));
    let patches = localcloud::moto::SCRIPT;
    let expected = r#"("self", "client_id", "auth_flow", "auth_parameters")"#;
    assert!(patches.contains(expected), "the InitiateAuth patch names the parameters it expects");
    // As if moto had renamed a parameter of the method the patch wraps.
    let misfit = patches.replace(expected, r#"("self", "client_id", "flow", "auth_parameters")"#);
    // Run from a file, as moto.rs runs it (the script is longer than one argument may be).
    let dir = tempfile::tempdir().expect("tmp");
    let script = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("script");
        path
    };
    let out = std::process::Command::new(&python)
        .arg(script("misfit.py", &misfit))
        .args(["-H", "127.0.0.1", "-p", &free_port().expect("port").to_string()])
        .output()
        .expect("python runs");
    assert!(!out.status.success(), "moto must not start with a patch that does not fit");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("moto.cognitoidp.models.CognitoIdpBackend.initiate_auth") && said.contains("auth_flow"),
        "the failure names the attribute and its parameters: {said}"
    );

    // The patches as shipped fit the pinned moto, and say so in the log.
    let fits = std::process::Command::new(&python)
        .arg(script("fits.py", &patches.replace("    main(sys.argv[1:])", "    pass")))
        .args(["-H", "127.0.0.1", "-p", "1"])
        .output()
        .expect("python runs");
    assert!(fits.status.success(), "{}", String::from_utf8_lossy(&fits.stderr));
    assert!(String::from_utf8_lossy(&fits.stderr).contains("every patch fits"));
}

/// AdminCreateUser e-mails the invitation unless told not to (MessageAction SUPPRESS): locally it
/// is a line in the mailbox, `notifications.jsonl`, with the pool's template filled in and the
/// temporary password masked; RESEND sends it again.
#[tokio::test(flavor = "multi_thread")]
async fn invitations_reach_the_local_mailbox_with_the_password_masked() {
    let logs = tempfile::tempdir().expect("temp dir");
    let moto = MotoServer::start(&crate::root(), logs.path(), false).await.expect("moto starts");
    let script = r#"
import json, os, boto3
idp = boto3.client("cognito-idp")
pool = idp.create_user_pool(PoolName="p", AdminCreateUserConfig={"AllowAdminCreateUserOnly": True,
    "InviteMessageTemplate": {"EmailSubject": "Your place at the Bedrock day",
                              "EmailMessage": "Open http://app.example/ and sign in as {username} with {####}."}})["UserPool"]["Id"]
attrs = lambda e: [{"Name": "email", "Value": e}]
idp.admin_create_user(UserPoolId=pool, Username="ada@example.com", UserAttributes=attrs("ada@example.com"),
                      TemporaryPassword="Secret-pass-1a", DesiredDeliveryMediums=["EMAIL"])
idp.admin_create_user(UserPoolId=pool, Username="bob@example.com", UserAttributes=attrs("bob@example.com"),
                      MessageAction="SUPPRESS")
idp.admin_create_user(UserPoolId=pool, Username="ada@example.com", MessageAction="RESEND", TemporaryPassword="Secret-pass-2b")
path = os.path.join(os.environ["LOG_DIR"], "notifications.jsonl")
print(json.dumps([json.loads(l) for l in open(path)] if os.path.exists(path) else []))
"#;
    let dir = logs.path().to_str().expect("utf8").to_owned();
    let mails = crate::boto3(&moto, script, &[("LOG_DIR", dir.as_str())]);
    let mails = mails.as_array().expect("a list");
    assert_eq!(mails.len(), 2, "the invitation and its resend, nothing for SUPPRESS: {mails:#?}");
    for mail in mails {
        assert_eq!(mail["endpoint"], "ada@example.com");
        assert_eq!(mail["subject"], "Your place at the Bedrock day");
        assert_eq!(
            mail["message"],
            "Open http://app.example/ and sign in as ada@example.com with <temporary password>."
        );
        assert!(!mail.to_string().contains("Secret-pass"), "the password is never written: {mail}");
    }
}
