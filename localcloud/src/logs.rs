//! What Lambda does with a function's output: every line the process writes to stdout or stderr
//! becomes a CloudWatch Logs event in `/aws/lambda/<function>`, in a log stream of its own per
//! execution environment (`YYYY/MM/DD/[$LATEST]<id>`). Here the events go to moto's CloudWatch
//! Logs — so `provision logs --local` and `aws logs tail` read them as on AWS — and to a file.
//!
//! Unlike Lambda, the log group is never created here: `provision up` creates it (with its
//! retention), and a line arriving after `provision down` removed it must not bring it back.

use std::io::Write;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::mpsc;

/// Where one execution environment's lines go. Cheap to clone.
#[derive(Clone)]
pub struct Shipper {
    tx: mpsc::UnboundedSender<(i64, String)>,
}

fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos().div_euclid(1_000_000) as i64
}

impl Shipper {
    /// Starts the task that writes `file` and ships batches to moto's `/aws/lambda/<function>`,
    /// as the function's execution role (Lambda writes a function's logs with the role's
    /// permissions: without logs:CreateLogStream and logs:PutLogEvents they are not kept).
    pub async fn start(
        moto: &str,
        region: &str,
        function: &str,
        role: aws_sdk_cloudwatchlogs::config::Credentials,
        file: std::fs::File,
    ) -> Shipper {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_owned()))
            .endpoint_url(moto)
            .credentials_provider(role)
            .load()
            .await;
        let client = aws_sdk_cloudwatchlogs::Client::new(&sdk);
        let group = format!("/aws/lambda/{function}");
        let today = time::OffsetDateTime::now_utc().date();
        let stream = format!(
            "{:04}/{:02}/{:02}/[$LATEST]{}",
            today.year(),
            u8::from(today.month()),
            today.day(),
            uuid::Uuid::new_v4().simple()
        );
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(ship(client, group, stream, file, rx));
        Shipper { tx }
    }

    /// One log line (Lambda's own START/END/REPORT lines come through here too).
    pub fn line(&self, text: impl Into<String>) {
        let _ = self.tx.send((now_ms(), text.into()));
    }
}

/// Reads a pipe of the function's process line by line into the shipper.
pub async fn pump(pipe: impl AsyncRead + Unpin, shipper: Shipper) {
    let mut lines = BufReader::new(pipe).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        shipper.line(line);
    }
}

async fn ship(
    client: aws_sdk_cloudwatchlogs::Client,
    group: String,
    stream: String,
    mut file: std::fs::File,
    mut rx: mpsc::UnboundedReceiver<(i64, String)>,
) {
    let mut stream_ready = false;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        // Lambda ships in small batches too: gather what arrives within a moment.
        tokio::time::sleep(Duration::from_millis(50)).await;
        while batch.len() < 1000 {
            match rx.try_recv() {
                Ok(e) => batch.push(e),
                Err(_) => break,
            }
        }
        for (_, line) in &batch {
            let _ = writeln!(file, "{line}");
        }
        if !stream_ready {
            let created = client.create_log_stream().log_group_name(&group).log_stream_name(&stream).send().await;
            stream_ready = match created {
                Ok(_) => true,
                Err(e) => e.as_service_error().is_some_and(|e| e.is_resource_already_exists_exception()),
            };
            if !stream_ready {
                tracing::debug!(%group, "log group not there: lines kept in the file only");
                continue;
            }
        }
        let events: Vec<InputLogEvent> = batch
            .into_iter()
            .filter_map(|(ts, message)| InputLogEvent::builder().timestamp(ts).message(message).build().ok())
            .collect();
        let put =
            client.put_log_events().log_group_name(&group).log_stream_name(&stream).set_log_events(Some(events)).send();
        if let Err(e) = put.await {
            tracing::debug!(%group, error = %e, "PutLogEvents failed");
        }
    }
}
