//! JavaScript and TypeScript flow projects: bundled with the SDK (rolldown)
//! and built with componentize-js into a component of the `weft:flow`
//! world, by the SDK's own build script (`guest-sdks/javascript/bin/build.mjs`)
//! on Node. componentize-js pre-initializes the component with the module
//! evaluated, so a run starts with the flows already registered.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

use super::cache::{self, BuildInputs};
use super::tools::{self, SdkRoot};

/// Builds the JavaScript/TypeScript project in `dir` whose flows are in
/// `entry` (relative to `dir`), or returns the component built from the
/// same inputs.
pub fn build(dir: &Path, entry: &Path) -> anyhow::Result<PathBuf> {
    let sdk = SdkRoot::find()?;
    let script = sdk.javascript_builder()?;
    let node = tools::node();
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;

    let mut inputs = BuildInputs::new("javascript");
    inputs.text("node", &node_version(&node)?);
    inputs.text("entry", &entry.to_string_lossy());
    inputs.tree("project", &dir)?;
    let js_sdk = sdk.javascript_sdk();
    inputs.tree("sdk/src", &js_sdk.join("src"))?;
    inputs.tree("sdk/bin", &js_sdk.join("bin"))?;
    inputs.file("sdk/package-lock.json", &js_sdk.join("package-lock.json"))?;
    inputs.tree("wit", &sdk.wit_dir())?;
    let hash = inputs.finish();

    let name = cache::project_name(&dir);
    cache::cached(
        &cache::output_dir(&dir, "javascript"),
        &name,
        &hash,
        |out| {
            eprintln!(
                "building the JavaScript flow {} with componentize-js",
                dir.display()
            );
            let mut command = Command::new(&node);
            command
                .arg(&script)
                .arg("--entry")
                .arg(dir.join(entry))
                .arg("--wit")
                .arg(sdk.wit_dir())
                .arg("--out")
                .arg(out)
                .current_dir(&dir)
                .stdin(Stdio::null())
                .stdout(tools::stdout_to_stderr());
            tracing::debug!(?command, "building");
            let status = command.status().with_context(|| {
                format!(
                    "cannot run node ({}): install Node.js 20 or later, or set WEFT_NODE",
                    node.to_string_lossy()
                )
            })?;
            if !status.success() {
                bail!(
                    "componentize-js failed for {} ({status}); its errors are above",
                    dir.join(entry).display()
                );
            }
            Ok(())
        },
    )
}

/// `node --version`, part of the build's inputs.
fn node_version(node: &std::ffi::OsStr) -> anyhow::Result<String> {
    let output = Command::new(node)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .with_context(|| {
            format!(
                "cannot run node ({}): install Node.js 20 or later, or set WEFT_NODE",
                node.to_string_lossy()
            )
        })?;
    if !output.status.success() {
        bail!("node --version failed ({})", output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}
