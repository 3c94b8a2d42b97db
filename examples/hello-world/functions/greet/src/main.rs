//! `greet`: `{"name":"Ada"}` -> `{"message":"Hello, Ada!"}`.

/// Set at build time from `[workspace.metadata.lambda.env]` (or the shell).
const LOG_LEVEL: Option<&str> = option_env!("LOG_LEVEL");

fn handler(event: &str) -> Result<String, String> {
    let name = tiny_runtime::find_string(event, "name").unwrap_or_else(|| "world".to_string());
    if name.trim().is_empty() {
        return Err("\"name\" must not be empty".to_string());
    }
    if matches!(LOG_LEVEL, Some("info" | "debug")) {
        eprintln!("[{}] greeting {name}", LOG_LEVEL.unwrap_or_default());
    }
    let message = format!("Hello, {name}!");
    Ok(format!(
        "{{\"message\":{}}}",
        tiny_runtime::json_string(&message)
    ))
}

fn main() {
    tiny_runtime::run(handler)
}
