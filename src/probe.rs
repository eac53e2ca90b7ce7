//! The `list` statuses: every saved profile asks whoami at once, each
//! within its own [`PROBE_TIMEOUT`] (SPEC §8), whatever the servers do and
//! however many profiles there are; profiles that would send the same
//! request (same URL, token and project) share one.

use std::time::{Duration, SystemTime};

use crate::config::profile::{Profile, Secret};
use crate::error::{self, Fix};
use crate::http::{Outcome, Request, Transport};
use crate::sanitize::Redactor;
use crate::whoami::{self, Next, REQUIRED_PERMISSION, RetryPolicy, Verdict};

/// A probe's own deadline: its retry policy's budget, retries included.
pub const PROBE_TIMEOUT: Duration = RetryPolicy::PROBE.budget;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeStatus {
    Ok,
    Inactive,
    Timeout,
    Error,
    Offline,
}

impl ProbeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeStatus::Ok => "ok",
            ProbeStatus::Inactive => "inactive",
            ProbeStatus::Timeout => "timeout",
            ProbeStatus::Error => "error",
            ProbeStatus::Offline => "offline",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub status: ProbeStatus,
    /// Why the status is not `ok`, when there is something to say.
    pub detail: Option<String>,
    /// What would make it work, where the profile's values say (each face
    /// spells it; the detail names no flag).
    pub fix: Option<Fix>,
}

impl Probe {
    /// The detail, then the next step as one face spells it.
    pub fn reason(&self, spell: impl FnOnce(&Fix) -> String) -> Option<String> {
        let detail = self.detail.as_deref()?;
        Some(error::with_step(detail, self.fix.as_ref(), spell))
    }

    fn new(status: ProbeStatus, detail: impl Into<String>) -> Probe {
        Probe {
            status,
            detail: Some(detail.into()),
            fix: None,
        }
    }
}

/// Statuses in profile order. A profile without a token is `error` even
/// offline, as in the reference CLI.
pub fn probe_all(transport: &dyn Transport, profiles: &[Profile], offline: bool) -> Vec<Probe> {
    let mut probes: Vec<Option<Probe>> = Vec::with_capacity(profiles.len());
    let mut requests = Vec::new();
    let mut owners = Vec::new();
    for (index, profile) in profiles.iter().enumerate() {
        if profile.token.as_ref().is_none_or(|t| t.is_empty()) {
            probes.push(Some(Probe::new(ProbeStatus::Error, "no token saved")));
            continue;
        }
        if offline {
            probes.push(Some(Probe {
                status: ProbeStatus::Offline,
                detail: None,
                fix: None,
            }));
            continue;
        }
        match whoami::request_for(profile) {
            Ok(request) => {
                requests.push(request);
                owners.push(index);
                probes.push(None);
            }
            Err(err) => probes.push(Some(Probe {
                fix: err.fix(),
                ..Probe::new(ProbeStatus::Error, err.to_string())
            })),
        }
    }
    if !requests.is_empty() {
        // Same URL, token and project: one request, one answer for all.
        let mut unique: Vec<Request> = Vec::new();
        let slots: Vec<usize> = requests
            .into_iter()
            .map(|request| match unique.iter().position(|u| *u == request) {
                Some(slot) => slot,
                None => {
                    unique.push(request);
                    unique.len() - 1
                }
            })
            .collect();
        let retry = |outcome: &Outcome, attempt: u32, elapsed: Duration| match RetryPolicy::PROBE
            .next(outcome, attempt, elapsed, SystemTime::now())
        {
            Next::Retry { pause, .. } => Some(pause),
            Next::Stop | Next::TooLong(_) => None,
        };
        let outcomes = transport.send_each(&unique, PROBE_TIMEOUT, &retry);
        // One redactor for every token of the run: a server may be reached
        // under several names (`127.0.0.1`, `localhost`, a proxy) and echo
        // any token it saw in any answer.
        let tokens: Vec<&Secret> = profiles.iter().filter_map(|p| p.token.as_ref()).collect();
        let redactor = Redactor::new(&tokens);
        for (&slot, &owner) in slots.iter().zip(&owners) {
            if let Some(outcome) = outcomes.get(slot) {
                let mut probe = judge(Verdict::read(outcome.clone(), &redactor));
                // A server that asked for more time than a probe has says when.
                if let (ProbeStatus::Error, Some(detail), Some(wait)) = (
                    probe.status,
                    probe.detail.as_mut(),
                    whoami::retry_after(outcome, SystemTime::now()),
                ) {
                    detail.push_str(&format!(" (the server asks to wait {} s)", wait.as_secs()));
                }
                probes[owner] = Some(probe);
            }
        }
    }
    probes
        .into_iter()
        .map(|p| p.unwrap_or_else(|| Probe::new(ProbeStatus::Timeout, "no answer")))
        .collect()
}

fn judge(verdict: Verdict) -> Probe {
    match &verdict {
        Verdict::Valid(whoami) if whoami.has_permission(REQUIRED_PERMISSION) => Probe {
            status: ProbeStatus::Ok,
            detail: None,
            fix: None,
        },
        Verdict::Valid(_) => Probe::new(
            ProbeStatus::Inactive,
            "no 'list' permission: sandboxes are disabled",
        ),
        Verdict::Timeout => Probe::new(ProbeStatus::Timeout, verdict.describe(PROBE_TIMEOUT)),
        _ => Probe::new(ProbeStatus::Error, verdict.describe(PROBE_TIMEOUT)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::profile::Secret;
    use crate::http::fake::FakeTransport;
    use crate::testing::assert_no_fragment;

    /// Answers by token: `ok`, `nolist`, `slow` (timeout), anything else 401.
    fn answer(r: &Request) -> Outcome {
        match r.bearer() {
            "ok" => Outcome::response(200, br#"{"permissions":{"list":true}}"#.to_vec()),
            "nolist" => Outcome::response(200, br#"{"permissions":{}}"#.to_vec()),
            "slow" => Outcome::Timeout,
            _ => Outcome::response(401, br#"{"error":"nope"}"#.to_vec()),
        }
    }

    fn profile(token: Option<&str>, project: Option<&str>) -> Profile {
        Profile {
            name: "p".into(),
            auth_type: if project.is_some() {
                "iam".into()
            } else {
                "jwt".into()
            },
            url: "http://127.0.0.1:9".into(),
            project: project.map(str::to_string),
            token: token.map(Secret::new),
            allow_insecure_http: false,
        }
    }

    #[test]
    fn statuses_follow_the_spec() {
        let fake = FakeTransport::new(answer);
        let profiles = [
            profile(Some("ok"), Some("proj")),
            profile(Some("nolist"), None),
            profile(Some("slow"), None),
            profile(Some("bad"), None),
            profile(None, None),
            profile(Some("ok"), Some("")),
        ];
        let statuses: Vec<_> = probe_all(&fake, &profiles, false)
            .iter()
            .map(|p| p.status.as_str())
            .collect();
        assert_eq!(
            statuses,
            ["ok", "inactive", "timeout", "error", "error", "error"]
        );
        let seen = fake.requests();
        assert_eq!(
            seen.len(),
            4,
            "no request for profiles that cannot send one"
        );
        assert!(seen[0].headers.contains(&("Project".into(), "proj".into())));
        assert!(!seen[1].headers.iter().any(|(k, _)| k == "Project"));
    }

    #[test]
    fn offline_sends_nothing() {
        let fake = FakeTransport::new(answer);
        let statuses: Vec<_> = probe_all(
            &fake,
            &[profile(Some("ok"), None), profile(None, None)],
            true,
        )
        .iter()
        .map(|p| p.status.as_str())
        .collect();
        assert_eq!(statuses, ["offline", "error"]);
        assert!(fake.requests().is_empty());
    }

    /// Answers every request with a 401 that echoes every token it was sent.
    fn echo() -> FakeTransport<'static> {
        FakeTransport::batch(|requests, _| {
            let all: Vec<&str> = requests.iter().map(|r| r.headers[0].1.as_str()).collect();
            let body = format!("{{\"error\":\"rejected: {}\"}}", all.join(" and "));
            requests
                .iter()
                .map(|_| Outcome::response(401, body.clone()))
                .collect()
        })
    }

    #[test]
    fn a_detail_shows_no_piece_of_any_token_the_server_saw() {
        let tokens = ["A".repeat(300), "b1c2d3e4f5g6h7".to_string()];
        let profiles: Vec<Profile> = tokens.iter().map(|t| profile(Some(t), None)).collect();
        for probe in probe_all(&echo(), &profiles, false) {
            let detail = probe.detail.unwrap();
            assert!(
                detail.starts_with("HTTP 401: rejected: Bearer <token sha256:"),
                "{detail}"
            );
            for token in &tokens {
                assert_no_fragment("the detail", &detail, token);
            }
        }
    }

    /// Issue 15 item 3: one server reached as `127.0.0.1` and as `localhost`
    /// saw both tokens; redaction grouped by host text missed the other one.
    #[test]
    fn one_redactor_covers_every_token_of_the_run_whatever_the_host_spelling() {
        let tokens = ["Q".repeat(40), "r2s3t4u5v6w7x8y9z0".to_string()];
        let profiles = [
            Profile {
                url: "http://127.0.0.1:9".into(),
                ..profile(Some(&tokens[0]), None)
            },
            Profile {
                url: "http://localhost:9".into(),
                ..profile(Some(&tokens[1]), None)
            },
        ];
        for probe in probe_all(&echo(), &profiles, false) {
            let detail = probe.detail.unwrap();
            for token in &tokens {
                assert_no_fragment("the detail", &detail, token);
            }
            assert_eq!(detail.matches("<token sha256:").count(), 2, "{detail}");
        }
    }

    /// A profile saved with `--allow-insecure-http` is probed over plain
    /// http:// to another machine; one without that consent is not.
    #[test]
    fn plain_http_to_another_machine_is_probed_only_with_the_saved_consent() {
        let fake = FakeTransport::new(answer);
        let remote = |consent: bool| Profile {
            url: "http://10.0.0.1:8080".into(),
            allow_insecure_http: consent,
            ..profile(Some("ok"), None)
        };
        let probes = probe_all(&fake, &[remote(true), remote(false)], false);
        assert_eq!(probes[0].status, ProbeStatus::Ok, "{:?}", probes[0]);
        assert_eq!(probes[1].status, ProbeStatus::Error);
        assert!(
            probes[1]
                .detail
                .as_deref()
                .is_some_and(|d| d.contains("plain http://")),
            "{:?}",
            probes[1]
        );
        assert_eq!(probes[1].fix, Some(crate::error::Fix::AllowInsecureHttp));
        let sent = fake.requests();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].url.authority, "10.0.0.1:8080");
    }

    /// Issue 24 item 4: profiles with the same URL, token and project are
    /// probed once, and each gets the answer (fails on the old code: two
    /// requests).
    #[test]
    fn profiles_that_would_send_the_same_request_share_one() {
        let fake = FakeTransport::new(answer);
        let profiles = [
            profile(Some("ok"), Some("proj")),
            Profile {
                name: "q".into(),
                ..profile(Some("ok"), Some("proj"))
            },
            profile(Some("ok"), Some("other")),
            profile(Some("ok"), None),
        ];
        let probes = probe_all(&fake, &profiles, false);
        assert!(
            probes.iter().all(|p| p.status == ProbeStatus::Ok),
            "{probes:?}"
        );
        assert_eq!(fake.requests().len(), 3, "one request for the first two");
    }

    /// A probe retries what the API client retries, inside its own 2 s: a
    /// lost connection, a 503 with a short Retry-After; not one that asks
    /// for longer than is left.
    #[test]
    fn a_probe_retries_inside_its_own_deadline() {
        let tries = std::cell::RefCell::new(std::collections::HashMap::<String, u32>::new());
        let fake = FakeTransport::new(|r: &Request| {
            let token = r.bearer().to_string();
            let n = {
                let mut tries = tries.borrow_mut();
                let n = tries.entry(token.clone()).or_default();
                *n += 1;
                *n
            };
            let busy = |after: &str| Outcome::Response {
                status: 503,
                headers: vec![("retry-after".into(), after.into())],
                body: Vec::new(),
            };
            match (token.as_str(), n) {
                ("lost", 1) => Outcome::ConnectionLost("connection refused".into()),
                ("busy", 1) => busy("1"),
                ("later", _) => busy("3600"),
                ("down", _) => Outcome::ConnectionLost("connection refused".into()),
                _ => answer(r),
            }
        });
        let names = ["lost", "busy", "later", "down"];
        let profiles: Vec<Profile> = names.iter().map(|t| profile(Some(t), None)).collect();
        let probes = probe_all(&fake, &profiles, false);
        let statuses: Vec<_> = probes.iter().map(|p| p.status.as_str()).collect();
        // The retries of `lost` and `busy` get `answer`'s 401: that detail
        // shows the second answer was the one judged.
        assert_eq!(statuses, ["error", "error", "error", "error"]);
        assert!(probes[0].detail.as_deref().unwrap().contains("HTTP 401"));
        assert!(probes[1].detail.as_deref().unwrap().contains("HTTP 401"));
        assert_eq!(
            probes[2].detail.as_deref(),
            Some("HTTP 503: server error (the server asks to wait 3600 s)")
        );
        let tries = tries.borrow();
        assert_eq!((tries["lost"], tries["busy"], tries["later"]), (2, 2, 1));
        // 0.1 + 0.2 + 0.5 s of pauses leave 1.2 s; 1 s more would not leave 0.25.
        assert_eq!(tries["down"], 4);
    }
}
