//! `hooklane`: runs the whole pipeline on one machine (`hooklane dev`),
//! calls the admin API (`hooklane api`), and registers hooks with bot
//! platforms (`hooklane telegram set-webhook`).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

mod api;
mod data_dir;
mod dev;
mod serve;
mod telegram;

#[derive(Debug, Parser)]
#[command(
    name = "hooklane",
    version,
    about = "A webhook gateway for bot platforms"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// One SQLite file in the data dir: nothing else to install.
    Embedded,
    /// DynamoDB and SQS (HOOKLANE_TABLE, HOOKLANE_QUEUE_URL, the standard AWS environment).
    Aws,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs ingress, admin API and dispatcher on one port.
    Dev {
        /// Where to listen: host:port (127.0.0.1:8080, localhost:8080, [::1]:8080),
        /// :port or a port (on 127.0.0.1).
        #[arg(long, default_value = "127.0.0.1:8080", env = "HOOKLANE_ADDR")]
        addr: String,
        /// Where the embedded backend and the admin token live.
        #[arg(long, default_value = ".hooklane", env = "HOOKLANE_DATA_DIR")]
        data_dir: PathBuf,
        /// Which store and queue to use.
        #[arg(long, value_enum, default_value = "embedded", env = "HOOKLANE_BACKEND")]
        backend: Backend,
    },
    /// Calls the admin API of a `hooklane dev` or of a deployed stack.
    ///
    /// Examples: `hooklane api POST /v1/bots --data '{"name": "My bot"}'`,
    /// `hooklane api GET /v1/bots/my-bot/hooks`,
    /// `hooklane api --url https://abc.execute-api.eu-west-1.amazonaws.com --sigv4 GET /v1/bots/my-bot`.
    Api {
        /// GET, POST, PATCH, DELETE, …
        method: String,
        /// The route, such as /v1/bots/my-bot/hooks.
        path: String,
        /// A JSON body, or @file to read it from a file.
        #[arg(long)]
        data: Option<String>,
        /// The base URL: a `hooklane dev` (http:// is assumed when no scheme
        /// is given) or a stack's ApiUrl output.
        #[arg(long, env = "HOOKLANE_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
        /// The admin token of a `hooklane dev`; when neither this nor
        /// --sigv4 is given, the one kept in --data-dir is used.
        #[arg(
            long,
            env = "HOOKLANE_ADMIN_TOKEN",
            hide_env_values = true,
            conflicts_with = "sigv4"
        )]
        token: Option<String>,
        /// Sign with the caller's AWS credentials (a deployed stack).
        #[arg(long)]
        sigv4: bool,
        /// The data dir of the `hooklane dev` whose admin token to use.
        #[arg(long, default_value = ".hooklane", env = "HOOKLANE_DATA_DIR")]
        data_dir: PathBuf,
    },
    /// Telegram: register a hook as a bot's webhook.
    Telegram {
        #[command(subcommand)]
        command: TelegramCommand,
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Dev {
            addr,
            data_dir,
            backend,
        } => dev::run(&addr, data_dir, backend).await,
        Command::Api {
            method,
            path,
            data,
            url,
            token,
            sigv4,
            data_dir,
        } => {
            let auth = match (token, sigv4) {
                (_, true) => api::Auth::SigV4,
                (Some(t), false) => api::Auth::Token(t),
                (None, false) => api::Auth::Token(api::token_in(&data_dir)?),
            };
            let url = api::base_url(&url)?;
            let body = api::read_data(data.as_deref())?;
            let (status, text) = api::call(&method, &url, &path, body, auth).await?;
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
    }
}
