//! The account's capacity for a class: how many edits Lambda runs at once in this account and
//! Region, how long a class pressing "Edit" together waits, and whether the stack's
//! `function.reserved_concurrency` fits — checked by `up` before anything is created (Lambda would
//! refuse the reservation only after the function exists, leaving a half-built stack), and shown
//! by `doctor`.

use image_edit_contract::lambda_concurrency::{increase_url, minimum_unreserved};

use crate::aws::{Aws, AwsError, Ctx, optional};

/// A class, as the docs size a workshop.
pub const CLASS: u32 = 30;
/// Seconds Bedrock takes for one image, roughly (Stability's image services: 3–10 s).
pub const SECONDS_PER_IMAGE: u32 = 5;

/// What `GetAccountSettings` and the function's own reservation say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// `AccountLimit.ConcurrentExecutions`.
    pub account: u32,
    /// `AccountLimit.UnreservedConcurrentExecutions`.
    pub unreserved: u32,
    /// What this stack's function reserves now (it is part of what is reserved above).
    pub reserved_here: Option<u32>,
}

fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

/// Reads the account's concurrency and the function's reservation (none while it does not exist).
pub async fn read(aws: &Aws, function: &str) -> Result<Capacity, AwsError> {
    let settings = aws.lambda.get_account_settings().send().await.ctx("lambda:GetAccountSettings")?;
    let limit = settings.account_limit();
    let reserved = optional(
        aws.lambda.get_function_concurrency().function_name(function).send().await.ctx("lambda:GetFunctionConcurrency"),
    )?
    .and_then(|c| c.reserved_concurrent_executions());
    Ok(Capacity {
        account: count(limit.map_or(0, |l| l.concurrent_executions())),
        unreserved: count(limit.and_then(|l| l.unreserved_concurrent_executions()).unwrap_or(0)),
        reserved_here: reserved.map(count),
    })
}

impl Capacity {
    /// The most this stack's function may reserve: what is unreserved (plus its own reservation,
    /// which a new value replaces), less what Lambda keeps unreserved.
    pub fn reservable(&self) -> u32 {
        (self.unreserved + self.reserved_here.unwrap_or(0)).saturating_sub(minimum_unreserved(self.account))
    }

    /// `function.reserved_concurrency` against the account; the error names the field, the
    /// figures, and the fix.
    pub fn check_reservation(&self, wanted: Option<i32>, region: &str) -> Result<(), String> {
        let Some(wanted) = wanted else { return Ok(()) };
        let room = self.reservable();
        if count(wanted) <= room {
            return Ok(());
        }
        Err(format!(
            "function.reserved_concurrency: {wanted} is more than this account can reserve in {region} ({room}): it has {} \
             concurrent executions, and Lambda keeps {} of them unreserved (\"decreases account's \
             UnreservedConcurrentExecution below its minimum value of [{}]\"). Remove function.reserved_concurrency, or \
             raise the account's Lambda concurrency first: {}",
            self.account,
            minimum_unreserved(self.account),
            minimum_unreserved(self.account),
            increase_url(region)
        ))
    }

    /// How many edits run at once: the function's reservation, else what is not reserved.
    pub fn at_once(&self, reserved: Option<i32>) -> u32 {
        reserved.map(count).unwrap_or(self.unreserved + self.reserved_here.unwrap_or(0))
    }

    /// One line for people: edits at once, a class's wait, and the fix when it is low. The bool
    /// says whether a class fits at once.
    pub fn summary(&self, reserved: Option<i32>, region: &str) -> (bool, String) {
        let at_once = self.at_once(reserved);
        let waves = CLASS.div_ceil(at_once.max(1));
        let mut line = format!(
            "{at_once} edits at once (Lambda: {} concurrent executions in {region}, {} unreserved); a class of {CLASS} \
             pressing Edit together waits up to ≈{} s at ~{SECONDS_PER_IMAGE} s an image",
            self.account,
            self.unreserved,
            waves * SECONDS_PER_IMAGE
        );
        let fits = at_once >= CLASS;
        if !fits {
            line.push_str(&format!(
                " (the app retries the rest by itself); for a class at once, ask for more: {}",
                increase_url(region)
            ));
        }
        (fits, line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRESH: Capacity = Capacity { account: 10, unreserved: 10, reserved_here: None };
    const DEFAULT: Capacity = Capacity { account: 1000, unreserved: 1000, reserved_here: None };

    #[test]
    fn a_fresh_account_has_nothing_to_reserve() {
        let e = FRESH.check_reservation(Some(2), "us-west-2").expect_err("refused");
        assert!(
            e.starts_with("function.reserved_concurrency: 2 is more than this account can reserve in us-west-2 (0)")
        );
        assert!(e.contains("minimum value of [10]") && e.contains("L-B99A9384"), "{e}");
        assert_eq!(FRESH.check_reservation(None, "us-west-2"), Ok(()));
    }

    #[test]
    fn the_default_account_keeps_100_unreserved() {
        assert_eq!(DEFAULT.reservable(), 900);
        assert!(DEFAULT.check_reservation(Some(900), "us-west-2").is_ok());
        assert!(DEFAULT.check_reservation(Some(901), "us-west-2").is_err());
        // Changing this function's own reservation: what it holds now is free to take again.
        let held = Capacity { account: 1000, unreserved: 950, reserved_here: Some(50) };
        assert!(held.check_reservation(Some(900), "us-west-2").is_ok());
    }

    #[test]
    fn a_class_waits_in_waves_of_what_runs_at_once() {
        let (fits, line) = FRESH.summary(None, "us-west-2");
        assert!(!fits);
        assert!(
            line.starts_with("10 edits at once (Lambda: 10 concurrent executions in us-west-2, 10 unreserved)"),
            "{line}"
        );
        assert!(line.contains("waits up to ≈15 s") && line.contains("servicequotas"), "{line}");
        let (fits, line) = DEFAULT.summary(None, "us-west-2");
        assert!(fits && line.contains("≈5 s") && !line.contains("servicequotas"), "{line}");
        assert_eq!(DEFAULT.summary(Some(5), "us-west-2").1.split(' ').next(), Some("5"));
    }
}
