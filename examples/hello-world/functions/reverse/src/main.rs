//! `reverse`: answers with the raw event text reversed, character by character.

fn handler(event: &str) -> Result<String, String> {
    let reversed: String = event.chars().rev().collect();
    Ok(format!(
        "{{\"reversed\":{}}}",
        tiny_runtime::json_string(&reversed)
    ))
}

fn main() {
    tiny_runtime::run(handler)
}
