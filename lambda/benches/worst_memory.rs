//! Peak memory (RSS) of the function for the worst inputs it accepts: the largest images it
//! decodes, with a mask of the same size where the operation takes one. Each case runs in a
//! fresh process (this binary, re-run with the case's name), so each peak is that case's alone.
//! The model answers instantly with a small image, and DynamoDB accepts every write.
//!
//! `cargo bench -p image-edit-lambda --bench worst_memory`

use std::io::Cursor;
use std::process::Command;

use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use image::{DynamicImage, ImageBuffer, ImageFormat, Luma, Rgb, Rgba};
use image_edit_lambda::App;
use image_edit_lambda::bedrock::{ImageModel, ModelCallError};
use image_edit_lambda::config::Config;
use serde_json::{Value, json};

struct InstantModel(Value);

impl ImageModel for InstantModel {
    async fn invoke(&self, _model_id: &str, _body: &Value) -> Result<Value, ModelCallError> {
        Ok(self.0.clone())
    }
}

/// (name, family, model ids, what it sends)
const CASES: &[(&str, &str, &str, &str)] = &[
    (
        "png-rgba8-25mp",
        "stability",
        r#"{"remove-background":"us.stability.stable-image-remove-background-v1:0"}"#,
        "5000×5000 8-bit RGBA PNG (the most pixels accepted), remove-background: decode, scale down",
    ),
    (
        "png-rgba16-12mp-mask",
        "stability",
        r#"{"inpaint":"us.stability.stable-image-inpaint-v1:0"}"#,
        "3535×3535 16-bit RGBA PNG (the largest decode buffer accepted) + mask, Stability inpaint: decode, scale",
    ),
    (
        "jpeg-25mp-mask",
        "stability",
        r#"{"inpaint":"us.stability.stable-image-inpaint-v1:0"}"#,
        "5000×5000 JPEG + 5000×5000 mask, Stability inpaint: decode both, scale both",
    ),
];

fn encode(img: DynamicImage, format: ImageFormat) -> String {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode");
    STANDARD.encode(out.into_inner())
}

fn body(case: &str) -> Value {
    // Smooth content, so that the files stay under the 4.5 MB upload limit.
    let mask = |s: u32| {
        encode(
            DynamicImage::ImageLuma8(ImageBuffer::from_fn(s, s, |x, y| {
                Luma([if x > s / 3 && x < 2 * s / 3 && y > s / 3 && y < 2 * s / 3 { 255 } else { 0 }])
            })),
            ImageFormat::Png,
        )
    };
    match case {
        "png-rgba8-25mp" => {
            let img = ImageBuffer::from_fn(5000, 5000, |x, y| Rgba([(x / 20) as u8, (y / 20) as u8, 90, 255]));
            json!({"operation": "remove-background", "image": encode(DynamicImage::ImageRgba8(img), ImageFormat::Png)})
        }
        "png-rgba16-12mp-mask" => {
            let img: ImageBuffer<Rgba<u16>, Vec<u16>> =
                ImageBuffer::from_fn(3535, 3535, |x, y| Rgba([(x * 18) as u16, (y * 18) as u16, 30_000, 65_535]));
            json!({"operation": "inpaint", "prompt": "a red kite",
                   "image": encode(DynamicImage::ImageRgba16(img), ImageFormat::Png), "mask": mask(3535)})
        }
        _ => {
            let img = ImageBuffer::from_fn(5000, 5000, |x, y| Rgb([(x / 20) as u8, (y / 20) as u8, 90]));
            json!({"operation": "inpaint", "prompt": "a red kite",
                   "image": encode(DynamicImage::ImageRgb8(img), ImageFormat::Jpeg), "mask": mask(5000)})
        }
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn event(name: &str) -> String {
    let body = body(name).to_string();
    assert!(body.len() < 6_258_688, "{name}: body of {} bytes is over the API's limit", body.len());
    json!({
        "resource": "/edits", "path": "/edits", "httpMethod": "POST",
        "headers": {"content-type": "application/json"}, "multiValueHeaders": {"content-type": ["application/json"]},
        "requestContext": {"resourcePath": "/edits", "httpMethod": "POST", "stage": "prod", "requestId": "bench",
                           "identity": {"sourceIp": "127.0.0.1"}, "authorizer": {"claims": {"sub": "bench-user"}}},
        "body": body, "isBase64Encoded": false
    })
    .to_string()
}

/// One request, read from `path` (built by the parent, so this process's peak is the request's).
fn run_case(name: &str, path: &str) {
    let (_, family, ids, _) = CASES.iter().find(|c| c.0 == name).expect("case");
    let event = std::fs::read_to_string(path).expect("event file");
    let env = [
        ("TABLE_NAME", "bench-edits".to_owned()),
        ("BEDROCK_REGION", "us-west-2".to_owned()),
        ("MODEL_FAMILY", (*family).to_owned()),
        ("MODEL_IDS", (*ids).to_owned()),
        ("ALLOWED_ORIGINS", "https://app.example.com".to_owned()),
        ("QUOTA_IMAGES_PER_USER_PER_DAY", "1000000".to_owned()),
        ("QUOTA_IMAGES_PER_DAY", "1000000".to_owned()),
    ];
    let config = Config::from_lookup(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).expect("config");
    let small = encode(DynamicImage::ImageRgb8(ImageBuffer::from_pixel(64, 64, Rgb([1, 2, 3]))), ImageFormat::Png);
    let answer = if *family == "stability" {
        json!({"seeds": [1], "finish_reasons": [null], "images": [small]})
    } else {
        json!({"images": [small]})
    };
    let put = mock!(aws_sdk_dynamodb::Client::put_item).then_output(|| PutItemOutput::builder().build());
    let count = mock!(aws_sdk_dynamodb::Client::update_item)
        .then_output(|| aws_sdk_dynamodb::operation::update_item::UpdateItemOutput::builder().build());
    let app =
        App::new(config, InstantModel(answer), mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &[&put, &count]));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let req = lambda_http::request::from_str(&event).expect("event");
    drop(event);
    let resp = rt.block_on(app.handle(req));
    let status = resp.status().as_u16();
    let text = match resp.body() {
        lambda_http::Body::Text(t) => t.chars().take(300).collect::<String>(),
        _ => String::new(),
    };
    assert_eq!(status, 200, "{name}: {text}");
    println!("{}\t{}", peak_rss_kib(), std::fs::metadata(path).map(|m| m.len()).unwrap_or(0));
}

fn main() {
    // As `bootstrap` does first thing.
    image_edit_lambda::memory::keep_freed_memory();
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--case") {
        run_case(&args[i + 1], &args[i + 2]);
        return;
    }
    let exe = std::env::current_exe().expect("exe");
    let dir = std::env::temp_dir().join(format!("worst-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    println!("peak RSS of one request, each in a fresh process:");
    for (name, _, _, what) in CASES {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, event(name)).expect("write event");
        let out = Command::new(&exe).args(["--case", name, path.to_str().expect("utf-8")]).output().expect("run");
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        // The last line: the function also prints its metrics (EMF) on stdout.
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout.trim().lines().last().unwrap_or_default();
        let mut it = line.split('\t').filter_map(|v| v.parse::<f64>().ok());
        let (kib, bytes) = (it.next().unwrap_or(0.0), it.next().unwrap_or(0.0));
        println!("  {name:<22} {:>6.1} MB  (event {:.1} MB)  {what}", kib / 1024.0, bytes / 1e6);
    }
    if std::env::var_os("BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
