//! `hooklane`: runs the whole pipeline on one machine (`hooklane dev`),
//! talks to the admin API of one (or of a deployed stack): `api`, `tail`,
//! `listen`, `trigger`, `bots`, `hooks`, `endpoints`, `deliveries`, `runs`,
//! `variables`;
//! registers hooks with bot platforms (`telegram set-webhook`); and
//! repairs a deployed stack's table (`backfill-bot-list`).
//!
//! A failed command prints `error: ` and the error with its causes on
//! stderr and exits 1 (never a backtrace, whatever `RUST_BACKTRACE` says);
//! a usage error is clap's and exits 2.

use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

mod api;
mod data_dir;
mod dev;
mod listen;
mod maintenance;
mod output;
mod resources;
mod serve;
mod tail;
mod telegram;
mod trigger;

#[global_allocator]
static ALLOC: hooklane_runtime::Allocator = hooklane_runtime::ALLOCATOR;

#[derive(Debug, Parser)]
#[command(
    name = "hooklane",
    version,
    about = "A webhook gateway for bot platforms"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How the admin API commands reach the API (global: before or after
    /// the subcommand).
    #[command(flatten)]
    conn: api::Connection,
    #[command(flatten)]
    old_url: OldUrl,
}

/// `--url`, the older spelling of `--api-url`, still taken where it was
/// taken before: after `api`, `tail` and `listen`, and between a resource
/// command and its action (`hooklane bots --url … list`); also right after
/// `hooklane`. Not global, so it never meets `endpoints create --url` (the
/// endpoint's own URL).
#[derive(Debug, clap::Args)]
struct OldUrl {
    #[arg(long = "url", hide = true, value_name = "URL")]
    url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs ingress, admin API and dispatcher on one port.
    Dev {
        /// Where to listen: host:port (127.0.0.1:8080, localhost:8080, [::1]:8080),
        /// :port or a port (on 127.0.0.1).
        #[arg(long, default_value = "127.0.0.1:8080", env = "HOOKLANE_ADDR")]
        addr: String,
        /// Which store and queue to use.
        #[arg(long, value_enum, default_value = "embedded", env = "HOOKLANE_BACKEND")]
        backend: dev::Backend,
    },
    /// Calls the admin API of a `hooklane dev` or of a deployed stack.
    ///
    /// Examples: `hooklane api POST /v1/bots --data '{"name": "My bot"}'`,
    /// `hooklane api GET /v1/bots/my-bot/hooks`,
    /// `hooklane api GET /v1/bots/my-bot --api-url https://abc.execute-api.eu-west-1.amazonaws.com --sigv4`.
    Api {
        /// GET, POST, PATCH, DELETE, …
        method: String,
        /// The route, such as /v1/bots/my-bot/hooks.
        path: String,
        /// A JSON body, or @file to read it from a file.
        #[arg(long)]
        data: Option<String>,
        #[command(flatten)]
        old_url: OldUrl,
    },
    /// Telegram: register a hook as a bot's webhook.
    Telegram {
        #[command(subcommand)]
        command: TelegramCommand,
    },
    /// Follows runs and deliveries as they happen, one line each.
    Tail {
        #[command(flatten)]
        filter: tail::Filter,
        #[command(flatten)]
        old_url: OldUrl,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Forwards every event published for a bot to a local URL, signed, and
    /// prints each forward with its status.
    Listen {
        #[command(flatten)]
        opts: listen::Options,
        #[command(flatten)]
        old_url: OldUrl,
        /// One JSON object per forward.
        #[arg(long)]
        json: bool,
    },
    /// Sends a correctly signed sample call of a common sender to a hook.
    ///
    /// Example: `hooklane trigger github-push --hook-url http://127.0.0.1:8080/hooks/my-bot/hk_…
    /// --secret "$GITHUB_SECRET"`. For discord, --secret is the seed of an
    /// Ed25519 private key (64 hex characters, e.g. `openssl rand -hex 32`);
    /// `hooklane trigger discord --secret SEED --print-public-key` prints the
    /// public key to give the hook as auth.public_key.
    Trigger {
        fixture: trigger::Fixture,
        /// The hook's URL (as its `url` reads).
        #[arg(long, required_unless_present = "print_public_key")]
        hook_url: Option<String>,
        /// The hook's signing secret (botghost-variables: the bot's API key;
        /// telegram: the hook's secret_token; twilio: the Auth Token;
        /// discord: the private key's 32-byte seed in hex).
        #[arg(long, env = "HOOKLANE_TRIGGER_SECRET", hide_env_values = true)]
        secret: String,
        /// Discord only: print the public key of --secret (the hook's
        /// auth.public_key) and send nothing.
        #[arg(long)]
        print_public_key: bool,
        /// The answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Bots: list, get, create, delete.
    Bots {
        #[command(subcommand)]
        cmd: resources::Bots,
        #[command(flatten)]
        out: Admin,
    },
    /// Inbound hooks: list, get, create, delete.
    Hooks {
        #[command(subcommand)]
        cmd: resources::Hooks,
        #[command(flatten)]
        out: Admin,
    },
    /// Outbound endpoints: list, get, create, delete, test, rotate-secret, recover.
    Endpoints {
        #[command(subcommand)]
        cmd: resources::Endpoints,
        #[command(flatten)]
        out: Admin,
    },
    /// An endpoint's delivery log, one row, and resends.
    Deliveries {
        #[command(subcommand)]
        cmd: resources::Deliveries,
        #[command(flatten)]
        out: Admin,
    },
    /// A hook's run log, one run, and replays.
    Runs {
        #[command(subcommand)]
        cmd: resources::Runs,
        #[command(flatten)]
        out: Admin,
    },
    /// A bot's stored variables (`{var.name}` in actions): list, set, delete.
    Variables {
        #[command(subcommand)]
        cmd: resources::Variables,
        #[command(flatten)]
        out: Admin,
    },
    /// DynamoDB: adds the bots created before `GET /v1/bots` existed to the
    /// bot list, once (safe to run again, and beside a running stack).
    ///
    /// Works on the table with the caller's AWS credentials (the standard
    /// AWS environment); it scans the whole table once.
    BackfillBotList {
        /// The stack's table (its `TableName` output).
        #[arg(long, env = "HOOKLANE_TABLE")]
        table: String,
    },
}

#[derive(Debug, Subcommand)]
enum TelegramCommand {
    /// Points a bot's updates at a hook (the Bot API's setWebhook).
    ///
    /// Example: `hooklane telegram set-webhook --bot-token 123456:ABC…
    /// --hook-url https://…/hooks/my-bot/hk_… --secret-token tgs_…
    /// --allowed-updates message,callback_query`.
    SetWebhook {
        /// The bot's token from @BotFather.
        #[arg(long, env = "TELEGRAM_BOT_TOKEN", hide_env_values = true)]
        bot_token: String,
        /// The hook's URL, as the admin API answered it.
        #[arg(long)]
        hook_url: String,
        /// The hook's auth.secret_token (shown once when the hook was created).
        #[arg(long, env = "TELEGRAM_SECRET_TOKEN", hide_env_values = true)]
        secret_token: Option<String>,
        /// The update types to receive, comma-separated (message,callback_query,…).
        #[arg(long, value_delimiter = ',')]
        allowed_updates: Vec<String>,
        /// Drop the updates Telegram is still holding for the bot.
        #[arg(long)]
        drop_pending_updates: bool,
        /// The Bot API server.
        #[arg(
            long,
            env = "HOOKLANE_TELEGRAM_API_BASE",
            default_value = "https://api.telegram.org"
        )]
        api_base: String,
    },
}

/// The output option of the resource commands (and the older `--url`).
#[derive(Debug, clap::Args)]
struct Admin {
    /// Print the API's answer as JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
    #[command(flatten)]
    old_url: OldUrl,
}

impl Command {
    /// The older `--url` given to this command, if it takes one.
    fn old_url(&self) -> Option<&str> {
        let old = match self {
            Command::Api { old_url, .. }
            | Command::Tail { old_url, .. }
            | Command::Listen { old_url, .. } => old_url,
            Command::Bots { out, .. }
            | Command::Hooks { out, .. }
            | Command::Endpoints { out, .. }
            | Command::Deliveries { out, .. }
            | Command::Runs { out, .. }
            | Command::Variables { out, .. } => &out.old_url,
            Command::Dev { .. }
            | Command::Telegram { .. }
            | Command::Trigger { .. }
            | Command::BackfillBotList { .. } => return None,
        };
        old.url.as_deref()
    }
}

/// The connection options (the ids of [`api::Connection`]'s fields) of
/// the commands that do not call the admin API: they are hidden from
/// these commands' help and refused when given to them. `hooklane dev`
/// keeps `--data-dir`, where it keeps its backend and token.
fn unused_connection(command: &str) -> &'static [&'static str] {
    const ALL: &[&str] = &["api_url", "token", "sigv4", "data_dir"];
    match command {
        "dev" => &["api_url", "token", "sigv4"],
        "backfill-bot-list" | "trigger" | "telegram" => ALL,
        _ => &[],
    }
}

/// `cmd` and its subcommands with the usage their `--help` shows in every
/// error too. (clap's errors otherwise list the options given, the global
/// ones with a default or from the environment included, without their
/// brackets, as if they were required.)
fn help_usage(mut cmd: clap::Command) -> clap::Command {
    let usage = cmd.render_usage().ansi().to_string();
    // "Usage: hooklane …", the title (and its styling) left out.
    let line = usage
        .find("Usage:")
        .and_then(|at| usage[at..].find(' ').map(|space| &usage[at + space + 1..]))
        .unwrap_or_default()
        .to_owned();
    let mut cmd = cmd.override_usage(line);
    for sub in cmd.get_subcommands_mut() {
        *sub = help_usage(std::mem::take(sub));
    }
    cmd
}

/// The command line's definition: [`Cli`]'s, with the connection options
/// hidden where they are not used and each command's usage as its
/// `--help` shows it.
fn command() -> clap::Command {
    let mut cmd = Cli::command();
    let connection: Vec<clap::Arg> = cmd.get_arguments().cloned().collect();
    for sub in cmd.get_subcommands_mut() {
        // A command's own (hidden) copy of a global option stands in for
        // it there and in its subcommands; the value is the global's still.
        for id in unused_connection(sub.get_name()) {
            if let Some(arg) = connection.iter().find(|a| a.get_id() == id) {
                *sub = std::mem::take(sub).arg(arg.clone().hide(true));
            }
        }
    }
    cmd.build();
    help_usage(cmd)
}

/// Whether `id` was given on the command line (not taken from the
/// environment or a default).
fn given(matches: &ArgMatches, id: &str) -> bool {
    matches.value_source(id) == Some(ValueSource::CommandLine)
}

/// `e`, with a tip to spell it `--api-url` when `--url` is unknown where
/// it was given (after the subcommand, where only `--api-url` is taken).
fn with_api_url_tip(mut e: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let is_url = |v: &ContextValue| matches!(v, ContextValue::String(a) if a == "--url" || a.starts_with("--url="));
    if e.kind() == ErrorKind::UnknownArgument && e.get(ContextKind::InvalidArg).is_some_and(is_url)
    {
        e.insert(
            ContextKind::SuggestedArg,
            ContextValue::String("--api-url".into()),
        );
    }
    e
}

/// The command line, with the older `--url` folded into `--api-url`.
///
/// Errors (clap's usage errors exit first): `--url` and `--api-url` both
/// given; connection options given to a command that does not use them
/// (see [`unused_connection`]).
fn parse() -> anyhow::Result<Cli> {
    let matches = command()
        .try_get_matches()
        .unwrap_or_else(|e| with_api_url_tip(e).exit());
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let old = cli.old_url.url.take();
    if let Some(url) = old.as_deref().or(cli.command.old_url()) {
        if given(&matches, "api_url") {
            bail!("--url is the older spelling of --api-url: give one of them");
        }
        cli.conn.api_url = url.to_owned();
    }
    if let Some(name) = matches.subcommand_name() {
        if let Some(id) = unused_connection(name)
            .iter()
            .find(|id| given(&matches, id))
        {
            let why = if name == "dev" {
                "it serves the admin API, with the token from HOOKLANE_ADMIN_TOKEN or the data dir"
            } else {
                "it does not call the admin API"
            };
            bail!("hooklane {name} takes no --{}: {why}", id.replace('_', "-"));
        }
    }
    Ok(cli)
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let title = anstyle::Style::new()
                .bold()
                .fg_color(Some(anstyle::AnsiColor::Red.into()));
            anstream::eprintln!("{}: {e:#}", output::paint(title, "error"));
            ExitCode::FAILURE
        }
    }
}

/// Runs the command the command line names.
async fn run() -> anyhow::Result<()> {
    let cli = parse()?;
    let conn = cli.conn;
    match cli.command {
        Command::Dev { addr, backend } => dev::run(&addr, conn.data_dir, backend).await,
        Command::Api {
            method, path, data, ..
        } => {
            let admin = conn.admin()?;
            let body = api::read_data(data.as_deref())?;
            let (status, text) = admin.raw(&method, &path, body).await?;
            if (200..300).contains(&status) {
                println!("{}", api::pretty(&text));
                Ok(())
            } else {
                eprintln!("{status}\n{}", api::pretty(&text));
                std::process::exit(1);
            }
        }
        Command::Telegram {
            command:
                TelegramCommand::SetWebhook {
                    bot_token,
                    hook_url,
                    secret_token,
                    allowed_updates,
                    drop_pending_updates,
                    api_base,
                },
        } => {
            if secret_token.is_none() {
                eprintln!("note: without --secret-token, a hook with telegram auth refuses every update (401)");
            }
            let said = telegram::set_webhook(telegram::SetWebhook {
                bot_token,
                hook_url,
                secret_token,
                allowed_updates,
                drop_pending_updates,
                api_base,
            })
            .await?;
            println!("{said}");
            Ok(())
        }
        Command::Tail { filter, json, .. } => tail::run(&conn.admin()?, filter, json).await,
        Command::Listen { opts, json, .. } => {
            listen::run(&conn.admin()?, opts, &conn.data_dir, json).await
        }
        Command::Trigger {
            fixture,
            hook_url,
            secret,
            print_public_key,
            json,
        } => {
            if print_public_key {
                if fixture != trigger::Fixture::Discord {
                    bail!("--print-public-key goes with the discord fixture (the other senders sign with a shared secret)");
                }
                println!("{}", trigger::discord_public_key(&secret)?);
                return Ok(());
            }
            let hook_url = hook_url.context("--hook-url is required")?;
            trigger::run(fixture, &hook_url, &secret, json).await
        }
        Command::Bots { cmd, out } => resources::bots(cmd, &conn.admin()?, out.json).await,
        Command::Hooks { cmd, out } => resources::hooks(cmd, &conn.admin()?, out.json).await,
        Command::Endpoints { cmd, out } => {
            resources::endpoints(cmd, &conn.admin()?, out.json).await
        }
        Command::Deliveries { cmd, out } => {
            resources::deliveries(cmd, &conn.admin()?, out.json).await
        }
        Command::Runs { cmd, out } => resources::runs(cmd, &conn.admin()?, out.json).await,
        Command::Variables { cmd, out } => {
            resources::variables(cmd, &conn.admin()?, out.json).await
        }
        Command::BackfillBotList { table } => maintenance::backfill_bot_list(&table).await,
    }
}
