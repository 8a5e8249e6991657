//! A component with many small flows, used by the host's tests: results,
//! failures, panics, sandbox limits, retries, caching, secrets, context.
//!
//! Flow names are what the host calls (`infinite_loop` is the flow
//! `infinite-loop`); the tests depend on them, so keep them stable.

use std::hint::black_box;
use std::time::Duration;

use weft_sdk::prelude::*;
use weft_sdk::serde_json::{Value, json};

/// Adds two numbers.
#[task]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Calls `add(40, 2)` and returns 42.
#[flow]
fn ok() -> i64 {
    add(40, 2)
}

/// Returns its parameter `value` unchanged.
#[flow]
fn echo(value: Value) -> Value {
    value
}

/// Spins forever without returning.
fn spin() -> ! {
    let mut counter = 0u64;
    loop {
        counter = black_box(counter.wrapping_add(1));
    }
}

/// Spins forever in the flow body.
#[flow]
fn infinite_loop() {
    spin()
}

/// Spins forever.
#[task]
fn spin_task() {
    spin()
}

/// Calls a task that spins forever.
#[flow]
fn infinite_loop_task() {
    spin_task()
}

/// Allocates and fills 1 MiB blocks forever.
#[flow]
fn memory_bomb() {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    loop {
        let block = vec![black_box(0xA5u8); 1 << 20];
        blocks.push(black_box(block));
    }
}

/// Recurses without bound (not a tail call: it uses its frame afterwards).
fn recurse(depth: u64) -> u64 {
    let mut frame = [0u8; 256];
    frame[(depth % 256) as usize] = 1;
    if black_box(depth) == u64::MAX {
        return 0;
    }
    let below = recurse(black_box(depth + 1));
    below + u64::from(black_box(&frame)[0])
}

/// Recurses until the stack runs out.
#[flow]
fn recursion() -> u64 {
    recurse(0)
}

/// Logs lines forever.
#[flow]
fn log_flood() {
    let mut line = 0u64;
    loop {
        log::info!("log line {line}");
        line = line.wrapping_add(1);
    }
}

/// Prints lines to stdout forever.
#[flow]
fn stdout_flood() {
    let mut line = 0u64;
    loop {
        println!("stdout line {line}");
        line = line.wrapping_add(1);
    }
}

/// Returns a string of `mb` MiB.
#[flow]
fn huge_result(mb: u32) -> String {
    "x".repeat(mb as usize * (1 << 20))
}

/// Submits `add` tasks forever without waiting for them.
#[flow]
fn endless_submit() {
    let mut futures = Vec::new();
    let mut i = 0i64;
    loop {
        futures.push(add::submit(i, 1));
        i = i.wrapping_add(1);
    }
}

/// Panics with "boom in flow".
#[flow]
fn panic_flow() {
    panic!("boom in flow");
}

/// Panics with "boom in task".
#[task]
fn boom() {
    panic!("boom in task");
}

/// Calls a task that panics with "boom in task".
#[flow]
fn panic_task() {
    boom()
}

/// Busy-loops forever; its timeout is 200 ms.
#[task(timeout_ms = 200)]
fn slow() {
    spin()
}

/// Calls a task with a 200 ms timeout that never finishes.
#[flow]
fn slow_task() {
    slow()
}

/// Fails while the attempt is at most `fail_times`; returns the attempt.
#[task(retries = 3, retry_delay_ms = [10, 20], retry_backoff = 2.0)]
fn flaky_step(fail_times: u32) -> Result<u32, String> {
    let attempt = context::attempt();
    if attempt <= fail_times {
        Err(format!("attempt {attempt} failed on purpose"))
    } else {
        Ok(attempt)
    }
}

/// Calls a task (3 retries) that fails `fail_times` times; returns the
/// attempt that succeeded.
#[flow]
fn flaky(fail_times: u32) -> Result<u32, String> {
    flaky_step::try_call(fail_times).map_err(|error| format!("task 'flaky_step' failed: {error}"))
}

/// Returns its task run id; cached for one second.
#[task(cache_expiration = 1)]
fn short_cached(x: u32) -> String {
    let _ = x;
    context::task_run_id().unwrap_or_default()
}

/// Returns the task run id of a task cached for one second (a cache hit
/// returns the id of the run that computed it).
#[flow]
fn short_cache(x: u32) -> String {
    short_cached(x)
}

/// Returns its task run id; cached under the fixed key "fixed-key".
#[task(cache_key = "fixed-key")]
fn keyed(x: u32) -> String {
    let _ = x;
    context::task_run_id().unwrap_or_default()
}

/// Returns the task run id of a task cached under "fixed-key", whatever `x`.
#[flow]
fn keyed_cache(x: u32) -> String {
    keyed(x)
}

/// Returns the length of the secret `name`, or the host's refusal.
#[flow]
fn read_secret(name: String) -> Result<usize, String> {
    secrets::get(&name).map(|value| value.len())
}

/// Logs and prints the secret `name` (the host must redact both).
#[flow]
fn log_secret(name: String) -> Result<String, String> {
    let value = secrets::get(&name)?;
    log::info!("the secret is {value}");
    println!("stdout {value}");
    Ok("done".to_owned())
}

/// Returns "from inner".
#[task]
fn inner() -> String {
    "from inner".to_owned()
}

/// Calls the task `inner` from inside a task.
#[task]
fn outer() -> String {
    inner()
}

/// Calls a task that calls a task; returns the inner result.
#[flow]
fn nested() -> String {
    outer()
}

/// The task's view of the context.
#[task]
fn task_context() -> Value {
    json!({
        "task_run_id": context::task_run_id(),
        "task_name": context::task_name(),
        "attempt": context::attempt(),
        "flow_run_id": context::flow_run_id(),
    })
}

/// Returns the flow's context and, under "task", a task's context.
#[flow]
fn context_info() -> Value {
    json!({
        "flow_run_id": context::flow_run_id(),
        "flow_run_name": context::flow_run_name(),
        "flow_name": context::flow_name(),
        "attempt": context::attempt(),
        "deployment_name": context::deployment_name(),
        "parameters": context::parameters(),
        "task_run_id": context::task_run_id(),
        "task_name": context::task_name(),
        "task": task_context(),
    })
}

/// Fails with "flow said no".
#[flow]
fn fail_flow() -> Result<(), String> {
    Err("flow said no".to_owned())
}

/// Sleeps `ms` milliseconds (WASI clocks) and returns `ms`.
#[flow]
fn sleep(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

/// Returns its task run id, so a reused result shows which run made it.
#[task]
fn step_a(x: u32) -> String {
    let _ = x;
    context::task_run_id().unwrap_or_default()
}

/// Completes `step_a`, then fails on its first attempt; the retry (two
/// allowed) gets `step_a`'s recorded result and succeeds.
#[flow(retries = 2, retry_delay_ms = 10)]
fn resume_after_failure() -> Result<Value, String> {
    let a = step_a(1);
    let attempt = context::attempt();
    if attempt == 1 {
        return Err("the first attempt fails after step_a".to_owned());
    }
    Ok(json!({ "a": a, "attempt": attempt }))
}

/// Fails on every attempt (two retries, no delay).
#[flow(retries = 2)]
fn always_fails() -> Result<(), String> {
    Err(format!("attempt {} failed", context::attempt()))
}

/// Spins past its 300 ms timeout.
#[flow(timeout_ms = 300)]
fn flow_timeout() {
    spin()
}

/// Waits on a task that spins, past the flow's 300 ms timeout.
#[flow(timeout_ms = 300, retries = 3)]
fn flow_timeout_task() {
    spin_task()
}

/// Sleeps `ms` milliseconds; tagged `db`, so a concurrency limit on the
/// tag bounds how many run at once.
#[task(tags = ["db"])]
fn db_step(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

/// Submits `n` `db_step`s of `ms` milliseconds at once and returns the sum
/// of what they return.
#[flow]
fn tagged_fanout(n: u32, ms: u64) -> Result<u64, TaskError> {
    let futures: Vec<_> = (0..n).map(|_| db_step::submit(ms)).collect();
    Ok(wait_all(futures)?.iter().sum())
}

/// GETs `url` and returns `{"status": N, "body": TEXT}`, or the SDK's
/// error (a denied host, a network error).
#[flow]
fn http_get(url: String) -> Result<Value, String> {
    let r = http::get(&url)?;
    Ok(json!({"status": r.status(), "body": r.text()}))
}

/// Reads the secret `name` (a placeholder when it is bound to hosts) and
/// sends it to `url` in a header, the query and the body. Returns what it
/// read and what the server answered.
#[flow]
fn http_with_secret(url: String, name: String) -> Result<Value, String> {
    let token = secrets::get(&name)?;
    let r = http::Request::post(&format!("{url}?token={token}"))
        .bearer_auth(&token)
        .json(&json!({"token": token}))
        .send()?;
    Ok(json!({"read": token, "status": r.status(), "body": r.text()}))
}

/// GETs `url` with a `Host` header naming `host` (which the host must
/// not trust).
#[flow]
fn http_host_header(url: String, host: String) -> Result<Value, String> {
    let r = http::Request::get(&url).header("host", &host).send()?;
    Ok(json!({"status": r.status(), "body": r.text()}))
}

/// A task that GETs `url` and fails on an error status; retried twice.
#[task(retries = 2, retry_delay_ms = 10)]
fn fetch_retried(url: String) -> Result<String, String> {
    Ok(http::get(&url)?.error_for_status()?.text())
}

/// Fetches `url` through a retried task.
#[flow]
fn http_retried(url: String) -> Result<String, String> {
    fetch_retried::try_call(url).map_err(|e| format!("task 'fetch_retried' failed: {e}"))
}
