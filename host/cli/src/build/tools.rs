//! Finding the guest toolchains: the weft checkout that holds the SDKs and
//! the WIT contract, componentize-py in its virtualenv, and Node with
//! componentize-js in its `node_modules` (all installed by
//! `./dev/guest-toolchains`, which `./dev/setup` runs).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::bail;

/// The command that installs the guest toolchains.
pub const SETUP_HINT: &str = "run `./dev/setup` (or `./dev/guest-toolchains`) in the weft checkout";

/// The SDKs' home: a weft checkout (or a copy of its `wit/` and
/// `guest-sdks/`).
#[derive(Debug, Clone)]
pub struct SdkRoot {
    root: PathBuf,
}

impl SdkRoot {
    /// `$WEFT_SDK_ROOT`, else the checkout this binary was built in or
    /// lives in (a directory above it that has `wit/weft.wit` and
    /// `guest-sdks/`).
    pub fn find() -> anyhow::Result<SdkRoot> {
        if let Some(root) = std::env::var_os("WEFT_SDK_ROOT") {
            let root = PathBuf::from(root);
            if !is_root(&root) {
                bail!(
                    "WEFT_SDK_ROOT={} has no wit/weft.wit and guest-sdks/",
                    root.display()
                );
            }
            return Ok(SdkRoot { root });
        }
        let exe = std::env::current_exe().ok();
        let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let candidates = exe
            .iter()
            .flat_map(|exe| exe.ancestors().skip(1).map(Path::to_path_buf))
            .chain(std::iter::once(built_in));
        for candidate in candidates {
            if is_root(&candidate) {
                let root = candidate.canonicalize().unwrap_or(candidate);
                return Ok(SdkRoot { root });
            }
        }
        bail!(
            "cannot find the weft SDKs (a weft checkout with wit/ and guest-sdks/): \
             set WEFT_SDK_ROOT to the checkout"
        )
    }

    /// The directory of the WIT contract.
    pub fn wit_dir(&self) -> PathBuf {
        self.root.join("wit")
    }

    /// The Python SDK's directory (holding the `weft` package).
    pub fn python_sdk(&self) -> PathBuf {
        self.root.join("guest-sdks/python")
    }

    /// The JavaScript SDK's directory (holding its `package.json`).
    pub fn javascript_sdk(&self) -> PathBuf {
        self.root.join("guest-sdks/javascript")
    }

    /// `componentize-py`: `$WEFT_COMPONENTIZE_PY`, else the Python SDK's
    /// virtualenv.
    pub fn componentize_py(&self) -> anyhow::Result<PathBuf> {
        let default = self.python_sdk().join(".venv/bin/componentize-py");
        tool("componentize-py", "WEFT_COMPONENTIZE_PY", default)
    }

    /// The JavaScript SDK's build script, checking that its dependencies
    /// (componentize-js, rolldown) are installed.
    pub fn javascript_builder(&self) -> anyhow::Result<PathBuf> {
        let sdk = self.javascript_sdk();
        let componentize = sdk.join("node_modules/@bytecodealliance/componentize-js/package.json");
        if !componentize.is_file() {
            bail!(
                "componentize-js is not installed (no {}): {SETUP_HINT}",
                componentize.display()
            );
        }
        Ok(sdk.join("bin/build.mjs"))
    }
}

/// `node`: `$WEFT_NODE`, else `node` on the `PATH`.
pub fn node() -> OsString {
    std::env::var_os("WEFT_NODE").unwrap_or_else(|| "node".into())
}

fn is_root(dir: &Path) -> bool {
    dir.join("wit/weft.wit").is_file() && dir.join("guest-sdks").is_dir()
}

/// A tool at `$env`, else at `default`; an error naming the set-up command
/// when neither exists.
fn tool(name: &str, env: &str, default: PathBuf) -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!("{env}={} does not exist", path.display());
        }
        return Ok(path);
    }
    if !default.is_file() {
        bail!(
            "{name} is not installed (no {}): {SETUP_HINT}, or set {env} to a {name} binary",
            default.display()
        );
    }
    Ok(default)
}

/// A child's stdout sent to our stderr, so `weft build` prints only the
/// component's path on stdout.
pub fn stdout_to_stderr() -> std::process::Stdio {
    use std::os::fd::AsFd as _;
    match std::io::stderr().as_fd().try_clone_to_owned() {
        Ok(fd) => std::process::Stdio::from(fd),
        Err(_) => std::process::Stdio::null(),
    }
}
