#!/usr/bin/env bash
# The SDK benchmark (not a test): component size, build time, compile time
# and instantiate-to-result of the same trivial flows (bench/sdk/guests: a
# `noop` flow and a `one-task` flow) in Rust, Python and JavaScript, on
# weft's runtime in one process. Prints a Markdown table (README's "SDK
# benchmark"). Run by hand on a quiet machine:
#
#   bench/sdk/run.sh [--iterations N]
#
# Build times: Python and JavaScript are built from scratch (a fresh
# weft-build cache; nothing is incremental there); Rust is an edit-and-build
# of the crate with its dependencies already compiled (cargo's normal
# cycle).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD

./dev/guest-toolchains
cargo build --release -p weft-cli
cargo build --release --manifest-path bench/sdk/Cargo.toml --target-dir target/bench-sdk

weft=$root/target/release/weft
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

args=()
for lang in rust python javascript; do
    dir=bench/sdk/guests/$lang
    if [ "$lang" = rust ]; then
        # Dependencies compiled once (not timed), then an edit and a build.
        CARGO_TARGET_DIR=$root/target/guests "$weft" build "$dir" >/dev/null
        touch "$dir/src/lib.rs"
        export CARGO_TARGET_DIR=$root/target/guests
    else
        export WEFT_TARGET_DIR=$scratch/$lang
    fi
    start=$(date +%s.%N)
    wasm="$("$weft" build "$dir" 2>/dev/null)"
    end=$(date +%s.%N)
    unset CARGO_TARGET_DIR WEFT_TARGET_DIR
    args+=(--build "$lang=$(echo "$end - $start" | bc)" "$lang=$wasm")
done

target/bench-sdk/release/weft-bench-sdk "$@" "${args[@]}"
