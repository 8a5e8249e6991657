//! `weft build`: builds a flow project into a component. The project's kind
//! is recognized from its files ([`project`]): a Rust crate is built with
//! cargo ([`rust`]), a Python project with componentize-py ([`python`]), a
//! JavaScript or TypeScript project with componentize-js ([`javascript`]).

mod cache;
mod javascript;
mod project;
mod python;
mod rust;
mod tools;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

pub use project::Project;

/// Arguments of `weft build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The project's directory: a Rust crate (Cargo.toml), a Python project
    /// (flow.py) or a JavaScript/TypeScript project (package.json or
    /// flow.js/flow.ts).
    pub dir: PathBuf,
    /// Copy the component here.
    #[arg(short, long, value_name = "OUT.wasm")]
    pub output: Option<PathBuf>,
    /// Build a Rust crate in cargo's debug profile instead of release.
    #[arg(long)]
    pub debug: bool,
    /// Also compile the component for this machine into weft's compile
    /// cache (`$WEFT_CACHE_DIR` or `$WEFT_HOME/cache`), so that its first
    /// `weft run` starts at once (Python and JavaScript components take
    /// 10-20 s to compile).
    #[arg(long)]
    pub precompile: bool,
}

/// Runs `weft build`: prints the component's path.
pub async fn run(args: BuildArgs) -> anyhow::Result<ExitCode> {
    let mut wasm = build(&args.dir, args.debug)?;
    if args.precompile {
        let runtime = crate::home::runtime()?;
        let component = runtime
            .load_file(&wasm)
            .await
            .with_context(|| format!("cannot load the component {}", wasm.display()))?;
        let how = if component.from_cache() {
            "already compiled"
        } else {
            "compiled"
        };
        eprintln!(
            "{how}: {} ({} flows, {} tasks)",
            wasm.display(),
            component.info().flows.len(),
            component.info().tasks.len()
        );
    }
    if let Some(out) = args.output {
        std::fs::copy(&wasm, &out)
            .with_context(|| format!("cannot copy {} to {}", wasm.display(), out.display()))?;
        wasm = out;
    }
    println!("{}", wasm.display());
    Ok(ExitCode::SUCCESS)
}

/// Builds the project in `dir` and returns the path of its component.
/// Tool output streams to stderr.
pub fn build(dir: &Path, debug: bool) -> anyhow::Result<PathBuf> {
    match Project::detect(dir)? {
        Project::Rust => rust::build(dir, debug),
        Project::Python { entry } => python::build(dir, &entry),
        Project::JavaScript { entry } => javascript::build(dir, &entry),
    }
}
