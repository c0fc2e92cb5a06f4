//! The command line, built from the generated tables: `fal-ltx <family>
//! <endpoint>` (and `submit <family> <endpoint>`) with one flag per input
//! field, plus `status`, `result`, `cancel`, `batch` and `completions`.

use clap::builder::{PossibleValuesParser, StyledStr, TypedValueParser, ValueParser};
use clap::{Arg, ArgAction, Command, value_parser};
use serde_json::Value;

use crate::generated::ENDPOINTS;
use crate::spec::{EndpointSpec, FieldSpec, ValueSpec};
use crate::{exit, parse};

/// The options every endpoint command has besides its fields' flags.
pub const INPUT: &str = "input";
pub const JSON: &str = "json";
pub const OUT_DIR: &str = "out-dir";
pub const OUTPUT: &str = "output";
pub const TIMEOUT: &str = "timeout";
/// The ids of the options above: a field with one of these flag names would clash.
const RESERVED: [&str; 5] = [INPUT, JSON, OUT_DIR, OUTPUT, TIMEOUT];

/// The whole command line.
pub fn cli() -> Command {
    let endpoint_ids: Vec<&'static str> = ENDPOINTS.iter().map(|e| e.id).collect();
    let endpoint_arg = || {
        Arg::new("endpoint")
            .required(true)
            .value_name("ENDPOINT_ID")
            .help("The endpoint id the request was submitted to")
            .value_parser(PossibleValuesParser::new(endpoint_ids.clone()))
    };
    let request_arg =
        || Arg::new("request-id").required(true).value_name("REQUEST_ID").help("The request id `submit` printed");
    let mut command = Command::new("fal-ltx")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Runs fal.ai's LTX video models: one subcommand per endpoint, generated from fal's OpenAPI documents")
        .after_help(format!(
            "Local files given where a URL is expected are uploaded first. The key comes from --key or FAL_KEY.\n\n{}",
            exit::TABLE
        ))
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(global("key", "FAL_KEY", "KEY", "fal API key"))
        .arg(global("queue-url", "FAL_QUEUE_URL", "URL", "Queue base URL [default: https://queue.fal.run]"))
        .arg(global("run-url", "FAL_RUN_URL", "URL", "Base URL of synchronous runs [default: https://fal.run]"))
        .arg(global(
            "rest-url",
            "FAL_REST_URL",
            "URL",
            "REST base URL, where uploads start [default: https://rest.fal.ai]",
        ));
    for family in families() {
        command = command.subcommand(family_command(family, false));
    }
    let mut submit = Command::new("submit")
        .about("Submits a request to the queue, prints its request id and exits (follow it with status/result/cancel)")
        .subcommand_required(true);
    for family in families() {
        submit = submit.subcommand(family_command(family, true));
    }
    command
        .subcommand(submit)
        .subcommand(
            Command::new("status")
                .about("Prints the status of a submitted request (queue position, logs)")
                .arg(endpoint_arg())
                .arg(request_arg())
                .arg(Arg::new(JSON).long(JSON).action(ArgAction::SetTrue).help("Print the status as JSON")),
        )
        .subcommand(output_args(
            Command::new("result")
                .about("Waits for a submitted request's result, then prints it and downloads its files")
                .arg(endpoint_arg())
                .arg(request_arg()),
        ))
        .subcommand(
            Command::new("cancel")
                .about("Cancels a submitted request that has not started yet")
                .arg(endpoint_arg())
                .arg(request_arg()),
        )
        .subcommand(
            Command::new("batch")
                .about("Runs the jobs of a JSONL file with the durable batch runner: rerun the same command after a crash and it resumes without paying twice")
                .after_help(
                    "Each line: {\"key\": \"clip-1\", \"endpoint\": \"fal-ai/ltx-2.3/text-to-video\", \"input\": {…}} (key optional: line-<n>).\nThe directory gets journal.jsonl, <key>.json per job, files/<key>/… with --download, and manifest.json.",
                )
                .arg(Arg::new("jobs").required(true).value_name("FILE.jsonl").value_parser(value_parser!(std::path::PathBuf)).help("The jobs, one JSON object per line"))
                .arg(Arg::new("out").long("out").short('o').value_name("DIR").default_value("batch").value_parser(value_parser!(std::path::PathBuf)).help("The batch directory: journal, outputs, manifest"))
                .arg(Arg::new("concurrency").long("concurrency").value_name("N").default_value("4").value_parser(value_parser!(usize)).help("Jobs in flight at once"))
                .arg(Arg::new("download").long("download").action(ArgAction::SetTrue).help("Download every file the outputs link to"))
                .arg(Arg::new("resubmit-uncertain").long("resubmit-uncertain").action(ArgAction::SetTrue).help("Submit again the jobs whose submit may have reached fal before a crash (they may run twice)"))
                .arg(Arg::new("retry-failed").long("retry-failed").action(ArgAction::SetTrue).help("Submit again the jobs that failed in an earlier run"))
                .arg(Arg::new(TIMEOUT).long(TIMEOUT).value_name("SECONDS").default_value("3600").value_parser(value_parser!(u64)).help("Give up on a job (and cancel it) after this many seconds")),
        )
        .subcommand(
            Command::new("completions")
                .about("Prints a shell completion script (bash, zsh, fish, elvish, powershell) on standard output")
                .arg(Arg::new("shell").required(true).value_parser(value_parser!(clap_complete::Shell))),
        )
}

fn global(id: &'static str, env: &'static str, name: &'static str, help: &'static str) -> Arg {
    // The values stay out of --help (the key is secret; the URLs would make the help depend on the shell).
    Arg::new(id)
        .long(id)
        .env(env)
        .hide_env_values(true)
        .value_name(name)
        .help(help)
        .global(true)
        .help_heading("Connection")
}

/// The family names, in endpoint-id order of their first endpoint, without repeats.
pub fn families() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = ENDPOINTS.iter().map(|e| e.family).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The endpoint with this family and command.
pub fn find(family: &str, command: &str) -> Option<&'static EndpointSpec> {
    ENDPOINTS.iter().copied().find(|e| e.family == family && e.command == command)
}

fn family_command(family: &'static str, submit: bool) -> Command {
    let apps: Vec<&str> = ENDPOINTS
        .iter()
        .filter(|e| e.family == family)
        .map(|e| e.id.splitn(3, '/').take(2).map(str::len).sum::<usize>() + 1)
        .zip(ENDPOINTS.iter().filter(|e| e.family == family))
        .map(|(len, e)| &e.id[..len.min(e.id.len())])
        .collect();
    let app = apps.first().copied().unwrap_or(family);
    let mut command = Command::new(family).about(format!("The {app}/* endpoints")).subcommand_required(true);
    for endpoint in ENDPOINTS.iter().filter(|e| e.family == family) {
        command = command.subcommand(endpoint_command(endpoint, submit));
    }
    command
}

fn endpoint_command(spec: &'static EndpointSpec, submit: bool) -> Command {
    let mut command = Command::new(spec.command)
        .about(spec.about)
        .after_help(
            "Nested values: key=value,… (or JSON); image sizes WIDTHxHEIGHT or a preset; lists: repeat the flag.\n\
             Flags override the fields of --input.",
        )
        .arg(
            Arg::new(INPUT)
                .long(INPUT)
                .value_name("FILE")
                .help("The whole input as a JSON object, from FILE or - (standard input); flags override its fields"),
        );
    if !submit {
        command =
            output_args(command).arg(
                Arg::new(TIMEOUT).long(TIMEOUT).value_name("SECONDS").value_parser(value_parser!(u64)).help(
                    "Give up after this many seconds: the request is cancelled (exit code 4; its id was printed)",
                ),
            );
    }
    for field in spec.fields {
        command = command.arg(field_arg(field));
    }
    command
}

/// `--json`, `--out-dir`, `--output`.
fn output_args(command: Command) -> Command {
    command
        .arg(Arg::new(JSON).long(JSON).action(ArgAction::SetTrue).help("Print the output as JSON on standard output"))
        .arg(
            Arg::new(OUT_DIR)
                .long(OUT_DIR)
                .value_name("DIR")
                .value_parser(value_parser!(std::path::PathBuf))
                .help("Download every file the output links to into DIR (video.mp4, …)"),
        )
        .arg(
            Arg::new(OUTPUT)
                .long(OUTPUT)
                .short('o')
                .value_name("FILE")
                .value_parser(value_parser!(std::path::PathBuf))
                .conflicts_with(OUT_DIR)
                .help("Download the output's file (the video) to FILE"),
        )
}

/// The flag of one input field: its help, its value's parser and possible values.
fn field_arg(field: &'static FieldSpec) -> Arg {
    let flag = field.flag();
    // The options of every endpoint command win; a field with such a name is only in --input.
    let id = if RESERVED.contains(&flag.as_str()) { format!("field-{flag}") } else { flag.clone() };
    let long = id.clone();
    let mut arg = Arg::new(id).long(long).help(StyledStr::from(field.help)).value_name(value_name(&field.value));
    let (shape, list) = match &field.value {
        ValueSpec::List(item) => (*item, true),
        shape => (shape, false),
    };
    arg = arg.value_parser(parser(shape));
    if matches!(shape, ValueSpec::Bool) {
        arg = arg.num_args(0..=1).default_missing_value("true");
    }
    if list {
        arg = arg.action(ArgAction::Append);
    }
    arg
}

fn value_name(shape: &ValueSpec) -> &'static str {
    match shape {
        ValueSpec::Bool => "BOOL",
        ValueSpec::Integer => "INT",
        ValueSpec::Number => "NUMBER",
        ValueSpec::String => "TEXT",
        ValueSpec::Json => "JSON",
        ValueSpec::Enum(_) | ValueSpec::IntEnum(_) => "VALUE",
        ValueSpec::Object(_) => "KEY=VALUE,…",
        ValueSpec::List(item) => value_name(item),
        ValueSpec::Union(_) => "VALUE",
    }
}

/// The parser of one value: the listed values for an enum (so `--help` and
/// completions show them), [`parse::value`] otherwise.
fn parser(shape: &'static ValueSpec) -> ValueParser {
    match shape {
        ValueSpec::Enum(values) => {
            ValueParser::new(PossibleValuesParser::new(values.iter().copied()).map(Value::String))
        }
        ValueSpec::IntEnum(values) => {
            let listed: Vec<String> = values.iter().map(ToString::to_string).collect();
            ValueParser::new(
                PossibleValuesParser::new(listed)
                    .map(|s| s.parse::<i64>().map_or_else(|_| Value::String(s), Value::from)),
            )
        }
        shape => ValueParser::new(ShapeParser(shape)),
    }
}

/// A clap value parser for [`parse::value`].
#[derive(Debug, Clone, Copy)]
struct ShapeParser(&'static ValueSpec);

impl TypedValueParser for ShapeParser {
    type Value = Value;

    fn parse_ref(&self, cmd: &Command, arg: Option<&Arg>, value: &std::ffi::OsStr) -> Result<Self::Value, clap::Error> {
        let text = value.to_str().ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidUtf8).with_cmd(cmd))?;
        parse::value(self.0, text).map_err(|message| {
            let flag = arg.and_then(Arg::get_long).map(|l| format!("--{l}")).unwrap_or_default();
            clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("invalid value for {flag}: {message}\n"))
                .with_cmd(cmd)
        })
    }
}

/// The id of a field's flag in the matches (see [`field_arg`]).
pub fn field_id(field: &FieldSpec) -> String {
    let flag = field.flag();
    if RESERVED.contains(&flag.as_str()) { format!("field-{flag}") } else { flag }
}
