//! The local cloud's figures: `up --local` wall time from a warm build (moto start included),
//! the first answer through the gateway (the function's cold start), and the edit round trip
//! gateway → bootstrap → Bedrock stand-in (latency 0) → DynamoDB.
//! Run: `cargo bench -p provisioner --bench local_cloud --profile dev` (EDITS=20 to change the count).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use provisioner::config::project_root;
use serde_json::{Value, json};

fn png(img: image::DynamicImage) -> String {
    let mut out = std::io::Cursor::new(Vec::new());
    let _ = img.write_to(&mut out, image::ImageFormat::Png);
    base64::engine::general_purpose::STANDARD.encode(out.into_inner())
}

fn main() {
    let root = project_root(Path::new(
        &std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR when it runs tests"),
    ))
    .expect("root");
    let dir = tempfile::tempdir().expect("tmp");
    let exe = env!("CARGO_BIN_EXE_provision");
    let bootstrap = Path::new(exe).parent().expect("dir").join("bootstrap");
    let run = |args: &[&str]| {
        Command::new(exe)
            .args(args)
            .current_dir(&root)
            .env("PROVISION_LOCALCLOUD_DIR", dir.path().join("cloud"))
            .env("PROVISION_STATE_DIR", dir.path().join("state"))
            .env("PROVISION_BOOTSTRAP", &bootstrap)
            .env("PROVISION_SITE_DIR", root.join("provisioner/tests/fixtures/site"))
            .env_remove("AWS_ENDPOINT_URL")
            .output()
            .expect("provision")
    };
    let t = Instant::now();
    let up = run(&["--json", "up", "--local"]);
    let up_wall = t.elapsed();
    assert!(up.status.success(), "{}", String::from_utf8_lossy(&up.stderr));
    let outputs = String::from_utf8_lossy(&up.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["event"] == "outputs")
        .map(|v| v["outputs"].clone())
        .expect("outputs");
    let cloud: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("cloud/cloud.json")).expect("cloud"))
            .expect("json");
    let moto = cloud["moto"]["endpoint"].as_str().expect("moto").to_owned();
    let api = outputs["apiUrl"].as_str().expect("api").to_owned();
    // The gateway's host name is `<api>.execute-api.localhost`; talk to its port with that Host.
    let port = cloud["standins"]["port"].as_u64().expect("port");
    let host = api.split("://").nth(1).and_then(|h| h.split('/').next()).expect("host").to_owned();
    let base = format!("http://127.0.0.1:{port}/prod");

    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let http = reqwest::Client::new();
        // Signed in as the web app signs in: SRP, the proof checked by the local Cognito.
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-west-2"))
            .endpoint_url(&moto)
            .credentials_provider(aws_sdk_sts::config::Credentials::new("local", "local", None, None, "local"))
            .load()
            .await;
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
        let pool = outputs["userPoolId"].as_str().expect("pool");
        let client = outputs["userPoolClientId"].as_str().expect("client");
        let user = outputs["demoUser"]["email"].as_str().expect("user");
        let password = outputs["demoUser"]["password"].as_str().expect("password");
        let auth = provisioner::session::srp_sign_in(&cognito, pool, client, user, password).await.expect("sign-in");
        let token = auth.authentication_result().and_then(|r| r.id_token()).expect("token").to_owned();
        let t = Instant::now();
        let first =
            http.get(format!("{base}/capabilities")).header("host", &host).header("authorization", &token).send().await;
        let first_answer = t.elapsed();
        assert!(first.is_ok_and(|r| r.status().is_success()));

        let (w, h) = (1024u32, 1024u32);
        let photo = png(image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
        })));
        let mask = png(image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            if (384..640).contains(&x) && (384..640).contains(&y) {
                image::Rgb([255, 255, 255])
            } else {
                image::Rgb([0, 0, 0])
            }
        })));
        let body = json!({"operation": "inpaint", "prompt": "a red bicycle", "image": photo, "mask": mask});
        let n: usize = std::env::var("EDITS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
        let mut times: Vec<Duration> = Vec::new();
        for _ in 0..n {
            let t = Instant::now();
            let r = http
                .post(format!("{base}/edits"))
                .header("host", &host)
                .header("authorization", &token)
                .json(&body)
                .send()
                .await
                .expect("edit");
            assert_eq!(r.status(), 200);
            let _ = r.bytes().await;
            times.push(t.elapsed());
        }
        times.sort();
        println!("up --local (warm build, moto start included): {:.2} s", up_wall.as_secs_f64());
        println!("first answer through the gateway (cold start of bootstrap): {} ms", first_answer.as_millis());
        println!(
            "1024×1024 inpaint round trip, {n} runs: min {} ms, median {} ms, max {} ms",
            times[0].as_millis(),
            times[n / 2].as_millis(),
            times[n - 1].as_millis()
        );
    });
    let down = run(&["down", "--local", "--yes"]);
    assert!(down.status.success(), "{}", String::from_utf8_lossy(&down.stderr));
}
