//! `hooklane`: runs the whole pipeline on one machine (`hooklane dev`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

mod dev;

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
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8080", env = "HOOKLANE_ADDR")]
        addr: SocketAddr,
        /// Where the embedded backend and the admin token live.
        #[arg(long, default_value = ".hooklane", env = "HOOKLANE_DATA_DIR")]
        data_dir: PathBuf,
        /// Which store and queue to use.
        #[arg(long, value_enum, default_value = "embedded", env = "HOOKLANE_BACKEND")]
        backend: Backend,
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
        } => dev::run(addr, data_dir, backend).await,
    }
}
