//! Guest stdout and stderr: captured line by line into the run's log
//! (redacted, and counted against the log limit), never the host's own
//! streams.

use std::sync::Arc;

use bytes::Bytes;
use uuid::Uuid;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};
use weft_core::LogLevel;

use crate::run::RunContext;

/// A line longer than this is logged in pieces.
const MAX_LINE: usize = 64 << 10;

/// The stdout or stderr of one instance.
pub(crate) struct GuestOutput {
    run: Arc<RunContext>,
    task_run_id: Option<Uuid>,
    name: &'static str,
}

impl GuestOutput {
    /// Output named `name` ("stdout" or "stderr") of an instance.
    pub(crate) fn new(run: Arc<RunContext>, task_run_id: Option<Uuid>, name: &'static str) -> Self {
        GuestOutput {
            run,
            task_run_id,
            name,
        }
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        // Only WASIp3 guests use this; weft links WASIp2.
        Box::new(tokio::io::sink())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(LineStream {
            run: self.run.clone(),
            task_run_id: self.task_run_id,
            name: self.name,
            level: if self.name == "stderr" {
                LogLevel::Warning
            } else {
                LogLevel::Info
            },
            buffer: Vec::new(),
        })
    }
}

/// Splits what the guest writes into log lines.
struct LineStream {
    run: Arc<RunContext>,
    task_run_id: Option<Uuid>,
    name: &'static str,
    level: LogLevel,
    buffer: Vec<u8>,
}

impl LineStream {
    fn emit(&mut self, line: &[u8]) -> StreamResult<()> {
        let text = String::from_utf8_lossy(line);
        let text = text.strip_suffix('\r').unwrap_or(&text);
        self.run
            .log(self.name, self.level, text, self.task_run_id)
            .map_err(|limit| StreamError::Trap(wasmtime::Error::new(limit)))
    }
}

impl OutputStream for LineStream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.buffer.extend_from_slice(&bytes);
        while let Some(pos) = self.buffer.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=pos).collect();
            self.emit(&line[..line.len() - 1])?;
        }
        if self.buffer.len() >= MAX_LINE {
            let line = std::mem::take(&mut self.buffer);
            self.emit(&line)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(MAX_LINE)
    }
}

#[async_trait::async_trait]
impl Pollable for LineStream {
    async fn ready(&mut self) {}
}

impl Drop for LineStream {
    fn drop(&mut self) {
        if !self.buffer.is_empty() {
            let line = std::mem::take(&mut self.buffer);
            let _ = self.emit(&line);
        }
    }
}
