//! Recognizing a flow project's kind, and its entry file, from the files
//! in its directory.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

/// Entry files of a Python project, in order of preference.
const PYTHON_ENTRIES: &[&str] = &["flow.py", "main.py"];

/// Entry files of a JavaScript/TypeScript project, in order of preference.
const JS_ENTRIES: &[&str] = &[
    "flow.ts",
    "flow.js",
    "flow.mjs",
    "index.ts",
    "index.js",
    "index.mjs",
];

/// A flow project, by the language it is written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Project {
    /// A Rust crate (a `Cargo.toml`).
    Rust,
    /// A Python project: `entry` is the module holding the flows (a `.py`
    /// file in the directory).
    Python {
        /// The entry module's file name, e.g. `flow.py`.
        entry: String,
    },
    /// A JavaScript or TypeScript project: `entry` is the module holding the
    /// flows, relative to the directory.
    JavaScript {
        /// The entry module's path, e.g. `flow.ts` or `src/index.js`.
        entry: PathBuf,
    },
}

impl Project {
    /// Recognizes the project in `dir`: a `Cargo.toml` is Rust; a
    /// `package.json` (its `main`, else `flow.ts`, `flow.js`, `index.ts`,
    /// `index.js`) or a `flow.ts`/`flow.js` is JavaScript; a `flow.py`,
    /// `main.py` or a single `.py` file is Python.
    pub fn detect(dir: &Path) -> anyhow::Result<Project> {
        if !dir.is_dir() {
            bail!("{} is not a directory", dir.display());
        }
        if dir.join("Cargo.toml").is_file() {
            return Ok(Project::Rust);
        }
        if dir.join("package.json").is_file() {
            return Ok(Project::JavaScript {
                entry: js_entry(dir)?,
            });
        }
        if let Some(entry) = first_file(dir, PYTHON_ENTRIES) {
            return Ok(Project::Python { entry });
        }
        if let Some(entry) = first_file(dir, JS_ENTRIES) {
            return Ok(Project::JavaScript {
                entry: PathBuf::from(entry),
            });
        }
        let python = files_with(dir, &["py"])?;
        match python.as_slice() {
            [one] => return Ok(Project::Python { entry: one.clone() }),
            [] => {}
            many => bail!(
                "{} has several Python modules ({}): name the one holding the flows flow.py",
                dir.display(),
                many.join(", ")
            ),
        }
        bail!(
            "{} has no Cargo.toml, package.json, flow.py or flow.js/flow.ts: `weft build` builds \
             a Rust crate, a Python project or a JavaScript/TypeScript project",
            dir.display()
        )
    }
}

/// The first of `names` that is a file in `dir`.
fn first_file(dir: &Path, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find(|name| dir.join(name).is_file())
        .map(|name| (*name).to_string())
}

/// The names of the files in `dir` (not below it) with one of `extensions`,
/// sorted.
fn files_with(dir: &Path, extensions: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        let matches = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| extensions.contains(&e));
        if matches
            && path.is_file()
            && let Some(name) = path.file_name().and_then(|n| n.to_str())
        {
            names.push(name.to_string());
        }
    }
    names.sort();
    Ok(names)
}

/// The entry of a project with a `package.json`: its `main` field, else
/// the first of the usual entry files (also under `src/`).
fn js_entry(dir: &Path) -> anyhow::Result<PathBuf> {
    let manifest = dir.join("package.json");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", manifest.display()))?;
    if let Some(main) = json.get("main").and_then(|m| m.as_str()) {
        let main = main.trim_start_matches("./");
        if !dir.join(main).is_file() {
            bail!(
                "the `main` of {} is {main}, which does not exist",
                manifest.display()
            );
        }
        return Ok(PathBuf::from(main));
    }
    if let Some(entry) = first_file(dir, JS_ENTRIES) {
        return Ok(PathBuf::from(entry));
    }
    if let Some(entry) = first_file(&dir.join("src"), JS_ENTRIES) {
        return Ok(Path::new("src").join(entry));
    }
    bail!(
        "{} has no `main`, and there is no {} in {}: say which module holds the flows with `main`",
        manifest.display(),
        JS_ENTRIES.join(" or "),
        dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        dir
    }

    fn detect(files: &[(&str, &str)]) -> anyhow::Result<Project> {
        Project::detect(project(files).path())
    }

    #[test]
    fn recognizes_each_language() {
        assert_eq!(
            detect(&[("Cargo.toml", ""), ("flow.py", "")]).unwrap(),
            Project::Rust
        );
        assert_eq!(
            detect(&[("flow.py", ""), ("helpers.py", "")]).unwrap(),
            Project::Python {
                entry: "flow.py".into()
            }
        );
        assert_eq!(
            detect(&[("pipeline.py", "")]).unwrap(),
            Project::Python {
                entry: "pipeline.py".into()
            }
        );
        assert_eq!(
            detect(&[("flow.ts", "")]).unwrap(),
            Project::JavaScript {
                entry: "flow.ts".into()
            }
        );
        assert_eq!(
            detect(&[("package.json", "{}"), ("src/index.js", "")]).unwrap(),
            Project::JavaScript {
                entry: "src/index.js".into()
            }
        );
        assert_eq!(
            detect(&[
                ("package.json", r#"{"main": "./lib/etl.js"}"#),
                ("lib/etl.js", "")
            ])
            .unwrap(),
            Project::JavaScript {
                entry: "lib/etl.js".into()
            }
        );
    }

    #[test]
    fn explains_what_it_cannot_recognize() {
        let err = detect(&[]).unwrap_err().to_string();
        assert!(
            err.contains("no Cargo.toml, package.json, flow.py"),
            "{err}"
        );
        let err = detect(&[("a.py", ""), ("b.py", "")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("a.py, b.py"), "{err}");
        let err = detect(&[("package.json", r#"{"main": "gone.js"}"#)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("gone.js"), "{err}");
        let err = detect(&[("package.json", "{}")]).unwrap_err().to_string();
        assert!(err.contains("no `main`"), "{err}");
    }
}
