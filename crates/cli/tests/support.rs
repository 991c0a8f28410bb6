//! What the command line's tests share: one runner of the real `bangfu` binary, one `bangfu serve`
//! process on port 0 (killed when dropped), and one HTTP client (reqwest) to talk to it.

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};

/// Runs `bangfu ARGS` with `stdin` typed in (or nothing), whatever its exit code.
pub fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bangfu"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bangfu runs");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("bangfu finishes")
}

/// Runs `bangfu ARGS` with nothing typed in, whatever its exit code.
pub fn bangfu(args: &[&str]) -> Output {
    run(args, None)
}

/// Runs `bangfu ARGS` and asserts that it succeeded, showing its stderr when not.
pub fn ok(args: &[&str], stdin: Option<&str>) -> Output {
    let output = run(args, stdin);
    assert!(output.status.success(), "bangfu {args:?}: {}", stderr(&output));
    output
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// Both streams, for messages that may go to either.
pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Asserts the exit code, showing stderr when it differs.
pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "stderr: {}\nstdout: {}", stderr(output), stdout(output));
}

/// A `bangfu serve` process on port 0, killed (SIGKILL) when dropped or by [`Server::kill`].
pub struct Server {
    child: Child,
    pub addr: String,
}

impl Server {
    /// `bangfu serve --db DB --addr 127.0.0.1:0 EXTRA…`, once it has printed its address.
    pub fn start(db: &str, extra: &[&str]) -> Server {
        Server::start_with(db, extra, &[])
    }

    /// [`Server::start`] with these environment variables set (and `BANGFU_ALLOW_OUTBOUND`
    /// removed unless given).
    pub fn start_with(db: &str, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_bangfu"));
        command.args(["serve", "--db", db, "--addr", "127.0.0.1:0"]).args(extra).env_remove("BANGFU_ALLOW_OUTBOUND");
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the server prints its address");
        let addr = line.trim().rsplit("http://").next().expect("address").to_string();
        Server { child, addr }
    }

    /// `kill -9`, and waits for the process to be gone.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix
        self.child.wait().expect("reaped");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request to a server at `addr` with a JSON body (none for `Value::Null`) and a bearer
/// token; the status and the JSON answer (`Value::Null` when it is not JSON).
pub async fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    // A client per request: each test has a runtime of its own, and a client's connections
    // belong to the runtime that opened them.
    let client = reqwest::Client::new();
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
    let mut request = client.request(method, format!("http://{addr}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if !body.is_null() {
        request = request.json(body);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("the answer's body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A token of `username` (password `correct horse battery`) from the server at `addr`.
pub async fn token(addr: &str, username: &str) -> String {
    let (status, body) = http(addr, "POST", "/api/v1/auth/token", None, &serde_json::json!({"username": username, "password": PASSWORD})).await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().expect("token").to_string()
}

/// The password of the users the tests add.
pub const PASSWORD: &str = "correct horse battery";
