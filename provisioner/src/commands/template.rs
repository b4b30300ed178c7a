//! `provision synth` and `provision policy`: documents rendered from the stack, no calls that change anything.

use serde_json::json;

use super::Ctx;
use crate::aws::Aws;
use crate::error::{CliError, Exit};
use crate::synth;

/// `provision synth`: the CloudFormation template of the stack.
pub async fn synth(ctx: &Ctx, output: Option<&std::path::Path>) -> Result<Exit, CliError> {
    let aws = Aws::load(&ctx.config.region, &ctx.target).await;
    let stack = ctx.stack();
    stack.validate().map_err(CliError::Usage)?;
    let template = synth::template(&stack, &aws)?;
    let yaml = synth::to_yaml(&template)?;
    match output {
        // CloudFormation reads JSON templates as well: under --json the template is the document.
        None => ctx.printer().document(&template, |out| write!(out, "{yaml}")),
        Some(path) => {
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, &yaml)
                .and_then(|()| std::fs::rename(&tmp, path))
                .map_err(|e| CliError::Usage(format!("-o {}: {e}", path.display())))?;
            let n = template["Resources"].as_object().map(|m| m.len()).unwrap_or(0);
            ctx.say(format!("wrote {} ({n} resources, {} bytes)", path.display(), yaml.len()));
            if ctx.json {
                ctx.printer().line(&json!({"wrote": path, "resources": n, "bytes": yaml.len()}));
            }
        }
    }
    Ok(Exit::Ok)
}

/// `policy`: the host's IAM policy for this stack, as JSON (the document IAM takes).
pub async fn policy(ctx: &Ctx, account: Option<String>) -> Result<Exit, CliError> {
    let account = match account {
        Some(a) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => a,
        Some(a) => return Err(CliError::Usage(format!("--account {a}: an AWS account id is 12 digits"))),
        None => Aws::load(&ctx.config.region, &ctx.target).await.identity().await.map_err(CliError::Aws)?.account,
    };
    let doc = crate::host_policy::document(&ctx.config, &account);
    let pretty = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| doc.to_string());
    ctx.printer().document(&doc, |out| writeln!(out, "{pretty}"));
    Ok(Exit::Ok)
}
