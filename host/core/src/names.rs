//! Human-friendly run names (`crimson-fox`), as Prefect gives its runs.

use rand::seq::IndexedRandom;

const ADJECTIVES: &[&str] = &[
    "amber", "azure", "bold", "brave", "bright", "calm", "clever", "cosmic", "crimson", "daring",
    "eager", "electric", "emerald", "fancy", "fearless", "gentle", "golden", "grumpy", "happy",
    "hidden", "icy", "jolly", "keen", "lively", "lucky", "mellow", "misty", "nimble", "olive",
    "proud", "quick", "quiet", "rapid", "rustic", "sandy", "scarlet", "silver", "smart", "snowy",
    "solar", "steady", "sunny", "swift", "tidy", "tranquil", "vivid", "wise", "witty", "zealous",
];

const ANIMALS: &[&str] = &[
    "albatross",
    "badger",
    "beaver",
    "bison",
    "cheetah",
    "cobra",
    "condor",
    "coyote",
    "crane",
    "dingo",
    "dolphin",
    "eagle",
    "falcon",
    "ferret",
    "fox",
    "gazelle",
    "gecko",
    "heron",
    "ibis",
    "jaguar",
    "kestrel",
    "koala",
    "lemur",
    "lynx",
    "marmot",
    "mink",
    "moose",
    "narwhal",
    "ocelot",
    "orca",
    "otter",
    "owl",
    "panda",
    "panther",
    "pelican",
    "puffin",
    "quokka",
    "raven",
    "salmon",
    "seal",
    "sparrow",
    "stork",
    "tapir",
    "tiger",
    "toucan",
    "walrus",
    "weasel",
    "wolf",
    "yak",
];

/// A random `adjective-animal` name.
pub fn generate() -> String {
    let mut rng = rand::rng();
    let adjective = ADJECTIVES.choose(&mut rng).copied().unwrap_or("quiet");
    let animal = ANIMALS.choose(&mut rng).copied().unwrap_or("otter");
    format!("{adjective}-{animal}")
}
