//! Rust flow crates: built with cargo for the `wasm32-wasip2` target; the
//! `.wasm` is found in cargo's JSON messages.

use std::io::{BufRead as _, BufReader, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

/// The Rust target flow components are built for.
pub const TARGET: &str = "wasm32-wasip2";

const MISSING_TARGET: &str = "the wasm32-wasip2 Rust target is not installed: \
     run `rustup target add wasm32-wasip2` (or `./dev/setup` in a weft checkout)";

/// Builds the crate in `dir` for `wasm32-wasip2` and returns the path of the
/// component cargo produced. Cargo's output streams to stderr.
pub fn build(dir: &Path, debug: bool) -> anyhow::Result<PathBuf> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        bail!(
            "{} has no Cargo.toml: `weft build` builds a Rust crate directory",
            dir.display()
        );
    }
    let manifest = manifest
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", manifest.display()))?;
    if target_installed(dir) == Some(false) {
        bail!(MISSING_TARGET);
    }

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.arg("build");
    if !debug {
        command.arg("--release");
    }
    command
        .args([
            "--target",
            TARGET,
            "--message-format=json-render-diagnostics",
            "--manifest-path",
        ])
        .arg(&manifest);
    if std::io::stderr().is_terminal() {
        command.arg("--color=always");
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    tracing::debug!(?command, "building");
    let mut child = command.spawn().context("cannot run cargo")?;

    // Forward cargo's stderr as it comes, watching for the missing target.
    let stderr = child.stderr.take().context("cargo's stderr")?;
    let forwarder = std::thread::spawn(move || {
        let mut missing_target = false;
        let mut err = std::io::stderr();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains(TARGET) && line.contains("may not be installed") {
                missing_target = true;
            }
            let _ = writeln!(err, "{line}");
        }
        missing_target
    });

    let stdout = child.stdout.take().context("cargo's stdout")?;
    let mut artifacts = Vec::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(artifact) = parse_artifact(&line) {
            artifacts.push(artifact);
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    let missing_target = forwarder.join().unwrap_or(false);
    if !status.success() {
        if missing_target {
            bail!(MISSING_TARGET);
        }
        bail!("cargo build failed for {} ({status})", manifest.display());
    }
    pick_artifact(&manifest, artifacts)
}

/// Whether the toolchain used in `dir` has the target; `None` when rustup
/// cannot tell (not installed, or not managing this toolchain).
fn target_installed(dir: &Path) -> Option<bool> {
    let output = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .any(|l| l.trim() == TARGET),
    )
}

/// A `.wasm` file cargo reported building.
#[derive(Debug, Clone, PartialEq)]
struct Artifact {
    manifest_path: PathBuf,
    wasm: PathBuf,
}

/// Reads one line of cargo's JSON messages: the `.wasm` of a
/// `compiler-artifact` message, if it has one.
fn parse_artifact(line: &str) -> Option<Artifact> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message.get("reason")?.as_str()? != "compiler-artifact" {
        return None;
    }
    let manifest_path = PathBuf::from(message.get("manifest_path")?.as_str()?);
    let wasm = message
        .get("filenames")?
        .as_array()?
        .iter()
        .filter_map(|f| f.as_str())
        .find(|f| f.ends_with(".wasm"))?;
    Some(Artifact {
        manifest_path,
        wasm: PathBuf::from(wasm),
    })
}

/// The component of the package at `manifest`, or the only one built.
fn pick_artifact(manifest: &Path, artifacts: Vec<Artifact>) -> anyhow::Result<PathBuf> {
    let same = |p: &Path| p == manifest || p.canonicalize().is_ok_and(|c| c == manifest);
    let own: Vec<&Artifact> = artifacts
        .iter()
        .filter(|a| same(&a.manifest_path))
        .collect();
    let candidates: Vec<&Artifact> = if own.is_empty() {
        artifacts.iter().collect()
    } else {
        own
    };
    match candidates.as_slice() {
        [one] => Ok(one.wasm.clone()),
        [] => bail!(
            "cargo built no .wasm for {}: is it a `cdylib` crate (crate-type = [\"cdylib\"])?",
            manifest.display()
        ),
        many => {
            let list: Vec<String> = many.iter().map(|a| a.wasm.display().to_string()).collect();
            bail!(
                "cargo built several components for {}; pass one package's directory: {}",
                manifest.display(),
                list.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_compiler_artifacts() {
        let line = r#"{"reason":"compiler-artifact","manifest_path":"/x/hello/Cargo.toml","target":{"kind":["cdylib"]},"filenames":["/t/hello.wasm"],"fresh":true}"#;
        assert_eq!(
            parse_artifact(line),
            Some(Artifact {
                manifest_path: "/x/hello/Cargo.toml".into(),
                wasm: "/t/hello.wasm".into()
            })
        );
        let rlib = r#"{"reason":"compiler-artifact","manifest_path":"/x/dep/Cargo.toml","filenames":["/t/libdep.rlib"]}"#;
        assert_eq!(parse_artifact(rlib), None);
        assert_eq!(
            parse_artifact(r#"{"reason":"build-finished","success":true}"#),
            None
        );
        assert_eq!(parse_artifact("Compiling foo"), None);
    }

    #[test]
    fn picks_the_packages_own_component() {
        let a = |m: &str, w: &str| Artifact {
            manifest_path: m.into(),
            wasm: w.into(),
        };
        let got = pick_artifact(
            Path::new("/x/hello/Cargo.toml"),
            vec![
                a("/x/dep/Cargo.toml", "/t/dep.wasm"),
                a("/x/hello/Cargo.toml", "/t/hello.wasm"),
            ],
        );
        assert_eq!(got.unwrap(), PathBuf::from("/t/hello.wasm"));
        assert!(pick_artifact(Path::new("/x/Cargo.toml"), vec![]).is_err());
        let many = pick_artifact(
            Path::new("/x/Cargo.toml"),
            vec![
                a("/x/a/Cargo.toml", "/t/a.wasm"),
                a("/x/b/Cargo.toml", "/t/b.wasm"),
            ],
        );
        assert!(many.unwrap_err().to_string().contains("several"));
    }
}
