//! `weft:flow/failure`: a guest reports why it is about to abort.

use crate::bindings::weft::flow::failure::Host;
use crate::state::HostState;

/// The longest panic message kept.
const MAX_MESSAGE: usize = 16 << 10;

impl Host for HostState {
    async fn panicked(&mut self, message: String) -> wasmtime::Result<()> {
        let mut message = message;
        if message.len() > MAX_MESSAGE {
            let mut cut = MAX_MESSAGE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str("...");
        }
        self.panic = Some(message);
        Ok(())
    }
}
