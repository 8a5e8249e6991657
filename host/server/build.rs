//! Rebuilds the server when a file of the embedded UI (`ui/`) is added,
//! removed or changed (`include_dir!` tracks only the files it saw).

fn main() {
    println!("cargo:rerun-if-changed=ui");
}
