//! The MCP tools: one per operation of [`crate::api`]. Each reads its
//! arguments, calls the operation, and shows the result or the error as it
//! is; validation, messages and redaction are the core's.

use serde_json::{Map, Value, json};

use super::jsonrpc::{self, RpcError};
use super::wit_docs::{WIT_SOURCE, function_doc};
use crate::api::{Context, ProfileView, SaveInput, SaveOutcome};
use crate::cli::log::Level;
use crate::config::env::{Environment, PROJECT_VARS, TOKEN_VARS, URL_VARS};
use crate::config::profile::{AUTH_TYPE_IAM, AuthType, DEFAULT_PROFILE, Secret};
use crate::config::variables::one_of;
use crate::error::{AuthError, Fix, with_step};
use crate::sanitize::escape_controls;

/// Log lines a call produced, with their levels: progress at `[INFO]`,
/// what the user must know (auth.ini's mode, and the like) at `[WARNING]`.
pub type Notes = Vec<(Level, String)>;

/// What the tools work with: the core's context (or why there is none) and
/// the server's own environment, which `save_profile` reads.
pub struct Tools<'a> {
    pub context: Result<Context<'a>, AuthError>,
    pub env: &'a Environment,
}

struct Spec {
    name: &'static str,
    /// The WIT function whose doc comment is the description.
    wit_function: &'static str,
    title: &'static str,
    /// Said after the WIT text, where the tool differs from the WIT function.
    mcp_note: &'static str,
    read_only: bool,
    destructive: bool,
    idempotent: bool,
    open_world: bool,
}

const SAVE_NOTE: &str = "The token is never an argument: this server reads it from its own \
environment, CONTREE_TOKEN, else NEBIUS_API_KEY (set it in the MCP client's server \
configuration). The URL defaults to CONTREE_URL and the project to CONTREE_PROJECT, else \
NEBIUS_AI_PROJECT, from the same environment.";

const WHOAMI_NOTE: &str = "The result's `profile` is the profile whose token answered: \
`name`, or the active one when `name` is omitted.";

const SPECS: [Spec; 5] = [
    Spec {
        name: "list_profiles",
        wit_function: "list-profiles",
        title: "List ConTree profiles",
        mcp_note: "",
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: true,
    },
    Spec {
        name: "whoami",
        wit_function: "whoami",
        title: "Ask the ConTree API about a profile's token",
        mcp_note: WHOAMI_NOTE,
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: true,
    },
    Spec {
        name: "switch_profile",
        wit_function: "switch-profile",
        title: "Switch the active ConTree profile",
        mcp_note: "",
        read_only: false,
        destructive: false,
        idempotent: true,
        open_world: false,
    },
    Spec {
        name: "remove_profile",
        wit_function: "remove-profile",
        title: "Remove a ConTree profile",
        mcp_note: "",
        read_only: false,
        destructive: true,
        idempotent: true,
        open_world: false,
    },
    Spec {
        name: "save_profile",
        wit_function: "save-profile",
        title: "Verify and save a ConTree token as a profile",
        mcp_note: SAVE_NOTE,
        read_only: false,
        // With `overwrite`, a saved token is replaced.
        destructive: true,
        idempotent: true,
        open_world: true,
    },
];

/// A tool's description: its WIT function's doc comment, plus the MCP note.
/// Where the doc names a WIT function (`switch-profile`), an agent reads the
/// tool it would call (`switch_profile`).
pub fn description(tool: &str) -> Option<String> {
    let spec = SPECS.iter().find(|s| s.name == tool)?;
    let mut doc = function_doc(WIT_SOURCE, spec.wit_function).unwrap_or_default();
    for other in &SPECS {
        doc = doc.replace(
            &format!("`{}`", other.wit_function),
            &format!("`{}`", other.name),
        );
    }
    Some(if spec.mcp_note.is_empty() {
        doc
    } else {
        format!("{doc}\n\n{}", spec.mcp_note)
    })
}

/// The `tools/list` result.
pub fn list() -> Value {
    let tools: Vec<Value> = SPECS
        .iter()
        .map(|spec| {
            json!({
                "name": spec.name,
                "title": spec.title,
                "description": description(spec.name),
                "inputSchema": input_schema(spec.name),
                "outputSchema": output_schema(spec.name),
                "annotations": {
                    "title": spec.title,
                    "readOnlyHint": spec.read_only,
                    "destructiveHint": spec.destructive,
                    "idempotentHint": spec.idempotent,
                    "openWorldHint": spec.open_world,
                },
            })
        })
        .collect();
    json!({ "tools": tools })
}

fn object_schema(properties: Value, required: &[&str]) -> Value {
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

fn name_property(what: &str) -> Value {
    json!({"type": "string", "description": what})
}

fn input_schema(tool: &str) -> Value {
    match tool {
        "list_profiles" => object_schema(
            json!({"offline": {
                "type": "boolean", "default": false,
                "description": "Skip the network probes: every status is `offline`."}}),
            &[],
        ),
        "whoami" => object_schema(
            json!({"name": name_property("The saved profile to ask about (default: the active one).")}),
            &[],
        ),
        "switch_profile" => object_schema(
            json!({"name": name_property("The saved profile to make active.")}),
            &["name"],
        ),
        "remove_profile" => object_schema(
            json!({"name": name_property("The saved profile to delete.")}),
            &["name"],
        ),
        _ => object_schema(
            json!({
                "name": {"type": "string", "default": DEFAULT_PROFILE,
                         "description": "The profile name."},
                "url": {"type": "string",
                        "description": "API base URL (default: CONTREE_URL, else the public API for iam; required for jwt)."},
                "auth_type": {"type": "string", "enum": ["iam", "jwt"], "default": AUTH_TYPE_IAM,
                              "description": "iam: bearer token + project; jwt: bearer token only."},
                "project": {"type": "string",
                            "description": "Project ID, iam only (default: CONTREE_PROJECT, else NEBIUS_AI_PROJECT)."},
                "overwrite": {"type": "boolean", "default": false,
                              "description": "Replace a profile of that name; otherwise an existing one is an `already-exists` error."},
                "allow_insecure_http": {"type": "boolean", "default": false,
                                        "description": "Allow http:// to a host other than loopback (the token would travel in clear)."},
            }),
            &[],
        ),
    }
}

/// A value of `kind` or null, spelled with `anyOf` rather than a `type`
/// array: clients that map schemas onto a one-`type` dialect (Gemini's
/// function declarations, for example) refuse the array form, and the MCP
/// Inspector's portability check warns about it.
fn nullable(kind: &str, description: &str) -> Value {
    json!({
        "anyOf": [{"type": kind}, {"type": "null"}],
        "description": description,
    })
}

fn profile_schema(with_status: bool) -> Value {
    let mut properties = json!({
        "name": {"type": "string"},
        "type": {"type": "string", "description": "iam or jwt"},
        "url": {"type": "string"},
        "project": {"type": "string", "description": "Empty when the profile has none."},
        "token_sha256": {"type": "string",
                         "description": "First 16 hex digits of SHA-256 of the token, or `<no token>`: never the token."},
        "active": {"type": "boolean"},
    });
    let mut required = vec!["name", "type", "url", "project", "token_sha256", "active"];
    if with_status {
        properties["status"] = json!({"type": "string",
            "enum": ["ok", "inactive", "timeout", "error", "offline"]});
        properties["detail"] = nullable(
            "string",
            "Why the status is not ok, when there is something to say.",
        );
        required.extend(["status", "detail"]);
    }
    object_schema(properties, &required)
}

fn output_schema(tool: &str) -> Value {
    let numbers = json!({"type": "object", "additionalProperties": {"type": "integer"}});
    match tool {
        "list_profiles" => object_schema(
            json!({
                "profiles": {"type": "array", "items": profile_schema(true),
                             "description": "In file order."},
                "active": {"type": "string", "description": "The active profile's name (it may not exist)."},
                "active_exists": {"type": "boolean"},
            }),
            &["profiles", "active", "active_exists"],
        ),
        "whoami" => object_schema(
            json!({
                "profile": {"type": "string", "description": "The profile whose token answered."},
                "token_uuid": {"type": "string"},
                "token_expiration": nullable("integer", "Unix seconds; null when the token does not expire."),
                "permissions": {"type": "object", "additionalProperties": {"type": "boolean"}},
                "limits": numbers,
                "operations_stat": numbers,
            }),
            &[
                "profile",
                "token_uuid",
                "token_expiration",
                "permissions",
                "limits",
                "operations_stat",
            ],
        ),
        "switch_profile" => object_schema(
            json!({"active": {"type": "string", "description": "The active profile now."}}),
            &["active"],
        ),
        "remove_profile" => object_schema(
            json!({
                "removed": {"type": "string"},
                "active": {"type": "string", "description": "The active profile after the removal."},
                "deleted_files": {"type": "array", "items": {"type": "string"},
                                  "description": "Session database files that were deleted."},
            }),
            &["removed", "active", "deleted_files"],
        ),
        _ => object_schema(
            json!({
                "profile": profile_schema(false),
                "list_permission": {"type": "boolean",
                    "description": "False when the token is valid but lacks the `list` permission (saved anyway)."},
                "path": {"type": "string", "description": "The auth.ini written."},
                "replaced": {"type": "boolean"},
            }),
            &["profile", "list_permission", "path", "replaced"],
        ),
    }
}

/// The tool names, in `tools/list` order.
pub fn names() -> Vec<&'static str> {
    SPECS.iter().map(|s| s.name).collect()
}

/// The `tools/call` result, with the log lines the operation produced.
/// An unknown tool is a protocol error (MCP's -32602) that names the tools
/// there are; everything else is a tool result. A success carries
/// `structuredContent` (valid against the tool's `outputSchema`) and the same
/// JSON as text. An error carries none: it would not match that schema, and
/// the MCP Inspector checks error results too. Its text says what went
/// wrong in the core's words, then gives the WIT `auth-error` variant as
/// JSON for programs, with the next step as `next_step` where there is one.
pub fn call(
    tools: &Tools<'_>,
    name: &str,
    arguments: &Map<String, Value>,
) -> Result<(Value, Notes), RpcError> {
    if !SPECS.iter().any(|s| s.name == name) {
        // The name asked for is not repeated: it is the client's text.
        let mut error = RpcError::invalid_params(format!(
            "Unknown tool: the tools are {}",
            names().join(", ")
        ));
        error.data = Some(json!({ "tools": names() }));
        return Err(error);
    }
    let mut notes = Vec::new();
    let outcome = run(tools, name, arguments, &mut notes);
    let result = match outcome {
        Ok(structured) => json!({
            "content": [{"type": "text", "text": jsonrpc::ascii_json(&structured)}],
            "structuredContent": structured,
            "isError": false,
        }),
        Err(err) => json!({
            "content": [
                {"type": "text", "text": escape_controls(&message(&err))},
                {"type": "text", "text": jsonrpc::ascii_json(&error_content(&err))},
            ],
            "isError": true,
        }),
    };
    Ok((result, notes))
}

fn run(
    tools: &Tools<'_>,
    name: &str,
    arguments: &Map<String, Value>,
    notes: &mut Notes,
) -> Result<Value, AuthError> {
    let args = Arguments(arguments);
    let context = tools.context.as_ref().map_err(Clone::clone)?;
    match name {
        "list_profiles" => {
            args.only(&["offline"])?;
            let listing = context.list_profiles(args.bool("offline")?.unwrap_or(false))?;
            let profiles: Vec<Value> = listing
                .profiles
                .iter()
                .map(|entry| {
                    let mut row = profile_content(&entry.profile);
                    row["status"] = json!(entry.probe.status.as_str());
                    row["detail"] = json!(entry.probe.reason(spell));
                    row
                })
                .collect();
            Ok(json!({
                "profiles": profiles,
                "active": listing.active,
                "active_exists": listing.active_exists,
            }))
        }
        "whoami" => {
            args.only(&["name"])?;
            let profile = match args.string("name")? {
                Some(name) => name,
                // The core's rule: CONTREE_PROFILE, else the file's pointer.
                None => context.active_profile()?,
            };
            let info = context.whoami(Some(&profile), &mut |note| {
                notes.push((Level::Info, note.to_string()))
            })?;
            let map = |pairs: &[(String, i64)]| -> Map<String, Value> {
                pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect()
            };
            Ok(json!({
                "profile": profile,
                "token_uuid": info.token_uuid,
                "token_expiration": info.token_expiration,
                "permissions": info.permissions.iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect::<Map<String, Value>>(),
                "limits": map(&info.limits),
                "operations_stat": map(&info.operations_stat),
            }))
        }
        "switch_profile" => {
            args.only(&["name"])?;
            let name = args.required_string("name")?;
            warn(notes, &context.switch_profile(&name)?);
            Ok(json!({ "active": name }))
        }
        "remove_profile" => {
            args.only(&["name"])?;
            let removal = context.remove_profile(&args.required_string("name")?)?;
            warn(notes, &removal.warnings);
            Ok(json!({
                "removed": removal.removed,
                "active": removal.active,
                "deleted_files": removal.deleted_files,
            }))
        }
        _ => {
            args.only(&[
                "name",
                "url",
                "auth_type",
                "project",
                "overwrite",
                "allow_insecure_http",
            ])?;
            // The token only ever comes from the server's environment (no
            // tool takes one); the rest of the seed's precedence is the core's.
            let Some((variable, token)) = tools.env.first_of(TOKEN_VARS) else {
                return Err(AuthError::invalid(
                    "token",
                    "no token in the MCP server's environment",
                )
                .with_fix(Fix::GiveToken));
            };
            notes.push((Level::Info, format!("Using token from {variable}")));
            let request = SaveInput {
                name: args
                    .string("name")?
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| DEFAULT_PROFILE.to_string()),
                token: Some(Secret::new(token)),
                url: args.string("url")?,
                auth_type: match args.string("auth_type")?.as_deref() {
                    None => AuthType::default(),
                    Some(name) => AuthType::parse(name).ok_or_else(|| {
                        AuthError::invalid("auth_type", "auth_type must be iam or jwt")
                    })?,
                },
                project: args.string("project")?,
                overwrite: args.bool("overwrite")?.unwrap_or(false),
                allow_insecure_http: args.bool("allow_insecure_http")?.unwrap_or(false),
            }
            .resolve(tools.env)?;
            let outcome = context.save_profile(request, &mut |note| {
                notes.push((Level::Info, note.to_string()))
            })?;
            warn(notes, &outcome.warnings);
            first_steps(notes, &outcome);
            Ok(json!({
                "profile": profile_content(&outcome.profile),
                "list_permission": outcome.list_permission,
                "path": outcome.path,
                "replaced": outcome.replaced,
            }))
        }
    }
}

/// What comes next after a save, in this face's words: which saved values
/// were kept, and how to make the profile active when none is.
fn first_steps(notes: &mut Notes, outcome: &SaveOutcome) {
    let name = crate::python::repr(&outcome.profile.name);
    if !outcome.kept.is_empty() {
        let kept: Vec<_> = outcome.kept.iter().map(|k| k.as_str()).collect();
        notes.push((
            Level::Info,
            format!(
                "Kept the saved {} of profile {name} (pass url or project to change them)",
                kept.join(" and ")
            ),
        ));
    }
    if !outcome.active_exists {
        notes.push((
            Level::Info,
            format!(
                "No profile is active ({} does not exist): call switch_profile with name {name} to make this one active",
                crate::python::repr(&outcome.active)
            ),
        ));
    }
}

/// What the user must be told, at `[WARNING]` (SPEC §5: auth.ini written
/// with the host's file mode is never said at `[INFO]`).
fn warn(notes: &mut Notes, warnings: &[String]) {
    notes.extend(warnings.iter().map(|w| (Level::Warning, w.clone())));
}

/// The next step in this face's words: the tools and their arguments, and
/// the server's environment, which its MCP client configures.
pub fn spell(fix: &Fix) -> String {
    match fix {
        Fix::ListProfiles => "call list_profiles to see the profiles' names".into(),
        Fix::Overwrite => "call save_profile again with overwrite: true to replace it".into(),
        Fix::GiveToken => format!(
            "set {} in this MCP server's environment (the env of its entry in the client's configuration)",
            one_of(TOKEN_VARS)
        ),
        Fix::GiveUrl => format!(
            "pass url, or set {} in this MCP server's environment",
            one_of(URL_VARS)
        ),
        Fix::GiveProject => format!(
            "pass project, or set {} in this MCP server's environment",
            one_of(PROJECT_VARS)
        ),
        Fix::UseHttpScheme => "pass a url that starts with http:// or https://".into(),
        Fix::CheckUrl => {
            "pass a working url (for a saved profile: call save_profile again with it and overwrite: true)"
                .into()
        }
        Fix::AllowInsecureHttp => {
            "use an https:// url, or call save_profile again with allow_insecure_http: true (and overwrite: true)"
                .into()
        }
        Fix::GrantConfigDir { dir } => format!(
            "create {dir} and grant it to this server's host, e.g. mkdir -p {dir} and start the server with wasmtime run --dir {dir} ... mcp"
        ),
        Fix::NameConfigHome => {
            "start the server with CONTREE_HOME set and that directory granted (wasmtime run --dir DIR --env CONTREE_HOME=DIR ... mcp)"
                .into()
        }
    }
}

/// An error's text: the core's message, then this face's next step.
pub fn message(err: &AuthError) -> String {
    with_step(err, err.fix().as_ref(), spell)
}

/// The keys and values of a `contree -f json auth ls` row.
fn profile_content(view: &ProfileView) -> Value {
    json!({
        "name": view.name,
        "type": view.auth_type,
        "url": view.url,
        "project": view.project,
        "token_sha256": view.token_sha256,
        "active": view.active,
    })
}

/// The WIT `auth-error` variant as JSON: its case as `kind`, its fields by
/// name, and `next_step` (this face's words) where there is one.
pub fn error_content(err: &AuthError) -> Value {
    let mut content = variant_content(err);
    if let Some(fix) = err.fix() {
        content["next_step"] = json!(spell(&fix));
    }
    content
}

fn variant_content(err: &AuthError) -> Value {
    match err {
        AuthError::NotFound(name) => json!({"kind": "not-found", "name": name}),
        AuthError::AlreadyExists(name) => json!({"kind": "already-exists", "name": name}),
        AuthError::InvalidInput { field, message, .. } => {
            json!({"kind": "invalid-input", "field": field, "message": message})
        }
        AuthError::ConfigParse {
            path,
            line,
            message,
        } => json!({"kind": "config-parse", "path": path, "line": line, "message": message}),
        AuthError::VerificationFailed { status, message } => {
            json!({"kind": "verification-failed", "status": status, "message": message})
        }
        AuthError::Network(message) => json!({"kind": "network", "message": message}),
        AuthError::Timeout(message) => json!({"kind": "timeout", "message": message}),
        AuthError::Io(message) | AuthError::NotGranted { message, .. } => {
            json!({"kind": "io", "message": message})
        }
    }
}

/// A tool's `arguments`, checked against its input schema. A mismatch is a
/// tool error (`invalid-input`) the model can correct, as MCP 2025-11-25
/// asks; values are never echoed back.
struct Arguments<'a>(&'a Map<String, Value>);

impl Arguments<'_> {
    fn only(&self, allowed: &[&str]) -> Result<(), AuthError> {
        if self.0.keys().all(|k| allowed.contains(&k.as_str())) {
            return Ok(());
        }
        // The unknown name is not repeated: it is the client's text, whatever it holds.
        let takes = if allowed.is_empty() {
            "no arguments".to_string()
        } else {
            format!("only {}", allowed.join(", "))
        };
        Err(AuthError::invalid(
            "arguments",
            format!("unknown argument: this tool takes {takes}"),
        ))
    }

    fn string(&self, key: &str) -> Result<Option<String>, AuthError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(AuthError::invalid(
                key,
                format!("argument {key} must be a string"),
            )),
        }
    }

    fn required_string(&self, key: &str) -> Result<String, AuthError> {
        self.string(key)?
            .ok_or_else(|| AuthError::invalid(key, format!("argument {key} is required")))
    }

    fn bool(&self, key: &str) -> Result<Option<bool>, AuthError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(AuthError::invalid(
                key,
                format!("argument {key} must be true or false"),
            )),
        }
    }
}
