//! Issue "typed WIT interface" and WIT 0.3.0: every typed function of the
//! `contree:auth` worlds called from a Rust host through `wasmtime::component::bindgen!`,
//! each error case included; absent values are `none`, never sentinels.

use contree_host::typed::{AuthError, AuthType, ProbeStatus};
use contree_host::{MockApi, Sandbox};

use crate::common::{no_token, request, sha16, token};

#[test]
fn save_list_switch_remove_and_whoami_round_trip() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    let mut host = sb.typed();

    let empty = no_token(host.list_profiles(true).unwrap()).unwrap();
    assert!(empty.profiles.is_empty());
    assert_eq!(empty.active, None);
    assert_eq!(empty.missing_active.as_deref(), Some("default"));

    let tok = token("ok");
    let saved = no_token(host.save_profile(&request(&api, "default", &tok)).unwrap()).unwrap();
    assert!(saved.list_permission && !saved.replaced);
    assert_eq!(saved.profile.token_sha256, Some(sha16(&tok)));
    assert_eq!(saved.profile.project.as_deref(), Some("proj-1"));
    assert_eq!(saved.profile.auth_type, AuthType::Iam);
    assert_eq!(saved.path, sb.path("auth.ini").display().to_string());
    assert_eq!(api.requests()[0].header("project"), Some("proj-1"));

    let again = host.save_profile(&request(&api, "default", &tok)).unwrap();
    assert!(
        matches!(again, Err(AuthError::AlreadyExists(ref n)) if n == "default"),
        "{again:?}"
    );
    let mut overwrite = request(&api, "default", &tok);
    overwrite.overwrite = true;
    assert!(host.save_profile(&overwrite).unwrap().unwrap().replaced);

    let nolist = host
        .save_profile(&request(&api, "second", &token("nolist")))
        .unwrap()
        .unwrap();
    assert!(!nolist.list_permission);

    let listing = no_token(host.list_profiles(false).unwrap()).unwrap();
    let statuses: Vec<_> = listing
        .profiles
        .iter()
        .map(|p| (p.profile.name.as_str(), p.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("default", ProbeStatus::Ok),
            ("second", ProbeStatus::Inactive)
        ]
    );
    assert!(listing.profiles[0].profile.active);
    assert_eq!(listing.active.as_deref(), Some("default"));
    assert_eq!(listing.missing_active, None);
    assert!(listing.profiles[1].detail.is_some());

    host.switch_profile("second").unwrap().unwrap();
    let granted = |who: &contree_host::typed::WhoamiInfo, name: &str| {
        who.permissions
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.granted)
    };
    let who = no_token(host.whoami(None).unwrap()).unwrap();
    assert_eq!(granted(&who, "list"), Some(false));
    let who = no_token(host.whoami(Some("default")).unwrap()).unwrap();
    assert_eq!(who.token_expiration, Some(1_893_456_000));
    assert_eq!(granted(&who, "list"), Some(true));
    assert!(!who.token_uuid.is_empty());

    sb.write_file("cli/sessions/second.db", "x");
    let removal = host.remove_profile("second").unwrap().unwrap();
    assert_eq!(
        (removal.removed.as_str(), removal.active.as_str()),
        ("second", "default")
    );
    assert_eq!(
        removal.deleted_files,
        [sb.path("cli/sessions/second.db").display().to_string()]
    );
}

#[test]
fn errors_are_variants_a_host_can_match() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    let mut host = sb.typed();

    assert!(
        matches!(host.switch_profile("ghost").unwrap(), Err(AuthError::NotFound(n)) if n == "ghost")
    );
    assert!(matches!(
        host.remove_profile("ghost").unwrap(),
        Err(AuthError::NotFound(_))
    ));
    assert!(matches!(
        host.whoami(Some("ghost")).unwrap(),
        Err(AuthError::NotFound(_))
    ));

    let field_of = |result: Result<_, AuthError>| match result {
        Err(AuthError::InvalidInput(invalid)) => invalid.field,
        other => panic!("expected invalid-input, got {other:?}"),
    };
    assert_eq!(
        field_of(host.save_profile(&request(&api, "a", "")).unwrap()),
        "token"
    );
    assert_eq!(
        field_of(
            host.save_profile(&request(&api, "a]", &token("ok")))
                .unwrap()
        ),
        "name"
    );
    let mut jwt = request(&api, "a", &token("ok"));
    (jwt.auth_type, jwt.url) = (AuthType::Jwt, None);
    assert_eq!(field_of(host.save_profile(&jwt).unwrap()), "url");
    let mut insecure = request(&api, "a", &token("ok"));
    insecure.url = Some("http://example.invalid".into());
    // Issue 25 item 4: the next step in this face's words (the request's
    // field), never the CLI's flag.
    match host.save_profile(&insecure).unwrap() {
        Err(AuthError::InvalidInput(invalid)) => {
            assert_eq!(invalid.field, "url");
            assert!(
                invalid
                    .message
                    .contains("call save-profile again with allow-insecure-http"),
                "{}",
                invalid.message
            );
            assert!(!invalid.message.contains("--allow"), "{}", invalid.message);
        }
        other => panic!("expected invalid-input, got {other:?}"),
    }

    match no_token(
        host.save_profile(&request(&api, "a", &token("e401")))
            .unwrap(),
    ) {
        Err(AuthError::VerificationFailed(failure)) => {
            assert_eq!(
                (failure.status, failure.message.as_str()),
                (Some(401), "invalid token")
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        host.save_profile(&request(&api, "a", &token("notjson"))).unwrap(),
        Err(AuthError::VerificationFailed(f)) if f.status == Some(200)
    ));
    let refusing = contree_host::harness::support::refusing_port();
    let closed = refusing.port();
    let mut refused = request(&api, "a", &token("ok"));
    refused.url = Some(format!("http://127.0.0.1:{closed}"));
    assert!(matches!(
        no_token(host.save_profile(&refused).unwrap()),
        Err(AuthError::Network(_))
    ));

    sb.write_file("auth.ini", "[profile:a]\ntoken = 1\ntoken = 2\n");
    match host.list_profiles(true).unwrap() {
        Err(AuthError::ConfigParse(parse)) => {
            assert_eq!(parse.line, Some(3));
            assert!(parse.path.ends_with("auth.ini"));
        }
        other => panic!("{other:?}"),
    }
    std::fs::remove_file(sb.path("auth.ini")).unwrap();
    std::fs::create_dir(sb.path("auth.ini")).unwrap();
    assert!(matches!(
        host.list_profiles(true).unwrap(),
        Err(AuthError::Io(_))
    ));
}

#[test]
fn a_slow_whoami_is_a_timeout_variant_for_probes() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    sb.write_file(
        "auth.ini",
        format!(
            "[profile:h]\ntype = jwt\nurl = {}\ntoken = {}\n",
            api.url(),
            token("hang")
        ),
    );
    let listing = sb.typed().list_profiles(false).unwrap().unwrap();
    assert_eq!(listing.profiles[0].status, ProbeStatus::Timeout);
}

#[test]
fn absent_values_are_none_not_sentinels() {
    let api = MockApi::start();
    let sb = Sandbox::new();
    // A jwt profile with neither project nor token, as the Python CLI's files can hold.
    sb.write_file(
        "auth.ini",
        format!(
            "[DEFAULT]\nprofile = bare\n\n[profile:bare]\ntype = jwt\nurl = {}\n",
            api.url()
        ),
    );
    let mut host = sb.typed();
    let listing = no_token(host.list_profiles(true).unwrap()).unwrap();
    let bare = &listing.profiles[0].profile;
    assert_eq!(
        (bare.project.as_ref(), bare.token_sha256.as_ref()),
        (None, None)
    );
    assert_eq!(bare.auth_type, AuthType::Jwt);
    assert_eq!(listing.active.as_deref(), Some("bare"));

    // Limits and counters are named records, not positional tuples.
    host.save_profile(&request(&api, "full", &token("ok")))
        .unwrap()
        .unwrap();
    let who = no_token(host.whoami(Some("full")).unwrap()).unwrap();
    let counts = |list: &[contree_host::typed::NamedCount]| -> Vec<(String, i64)> {
        list.iter().map(|c| (c.name.clone(), c.value)).collect()
    };
    assert_eq!(counts(&who.limits), [("max_instances".to_string(), 10)]);
    assert_eq!(counts(&who.operations_stat), [("total".to_string(), 3)]);

    // No request could be made: no HTTP status, rather than a made-up 0.
    match host
        .save_profile(&request(
            &api,
            "latin",
            &format!("{}-\u{0416}", token("ok")),
        ))
        .unwrap()
    {
        Err(AuthError::VerificationFailed(failure)) => {
            assert_eq!(failure.status, None, "{}", failure.message)
        }
        other => panic!("{other:?}"),
    }

    // A parse error that is not about one line has no line, rather than line 0.
    sb.write_file("auth.ini", "[profile:a]\ntoken = 50%\n");
    match sb.typed().list_profiles(true).unwrap() {
        Err(AuthError::ConfigParse(parse)) => assert_eq!(parse.line, None, "{}", parse.message),
        other => panic!("{other:?}"),
    }
}

/// WIT 0.3.0 (issue 16): `token`, `url` and `project` left out of a save
/// request come from the host's environment, in the seed's order; with none
/// set, the error names the variables. No result carries the token.
#[test]
fn save_takes_what_is_left_out_from_the_hosts_environment() {
    let api = MockApi::start();
    let left_out = |name: &str| contree_host::typed::SaveRequest {
        token: None,
        url: None,
        project: None,
        ..request(&api, name, "")
    };

    // Nothing set: each error names what to set, the token first.
    let sb = Sandbox::new();
    let invalid = |result: Result<_, AuthError>| match no_token(result) {
        Err(AuthError::InvalidInput(invalid)) => (invalid.field, invalid.message),
        other => panic!("expected invalid-input, got {other:?}"),
    };
    let (field, message) = invalid(sb.typed().save_profile(&left_out("a")).unwrap());
    assert_eq!(field, "token");
    assert!(
        message.contains("CONTREE_TOKEN") && message.contains("NEBIUS_API_KEY"),
        "{message}"
    );
    let nebius = token("ok");
    let mut sb = Sandbox::new();
    sb.env("NEBIUS_API_KEY", nebius.clone());
    let (field, message) = invalid(sb.typed().save_profile(&left_out("a")).unwrap());
    assert_eq!(field, "project");
    assert!(
        message.contains("CONTREE_PROJECT") && message.contains("NEBIUS_AI_PROJECT"),
        "{message}"
    );
    let mut jwt = left_out("a");
    jwt.auth_type = AuthType::Jwt;
    let (field, message) = invalid(sb.typed().save_profile(&jwt).unwrap());
    assert_eq!(field, "url");
    assert!(message.contains("CONTREE_URL"), "{message}");
    assert_eq!(sb.read_file("auth.ini"), None, "nothing was written");

    // The second variable of each pair, then the first, which wins.
    sb.env("CONTREE_URL", api.url())
        .env("NEBIUS_AI_PROJECT", "proj-nebius");
    let saved = no_token(sb.typed().save_profile(&left_out("second")).unwrap()).unwrap();
    assert_eq!(saved.profile.token_sha256, Some(sha16(&nebius)));
    assert_eq!(saved.profile.url, api.url());
    assert_eq!(saved.profile.project.as_deref(), Some("proj-nebius"));
    let contree = token("ok");
    sb.env("CONTREE_TOKEN", contree.clone())
        .env("CONTREE_PROJECT", "proj-contree");
    let saved = no_token(sb.typed().save_profile(&left_out("first")).unwrap()).unwrap();
    assert_eq!(saved.profile.token_sha256, Some(sha16(&contree)));
    assert_eq!(saved.profile.project.as_deref(), Some("proj-contree"));
    let auth_ini = sb.read_file("auth.ini").unwrap();
    assert!(auth_ini.contains(&contree) && auth_ini.contains(&nebius));

    // What the caller gives wins over the environment.
    let given = token("ok");
    let saved = no_token(
        sb.typed()
            .save_profile(&request(&api, "given", &given))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(saved.profile.token_sha256, Some(sha16(&given)));
    assert_eq!(saved.profile.project.as_deref(), Some("proj-1"));
}
