//! The server process as an operator meets it (issue 9): signals shut it down gracefully,
//! ending watches and console streams, and slow or idle clients cannot hold connections.

use crate::support::process::ServerProcess;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

fn start(extra: &[&str]) -> ServerProcess {
    let mut flags = vec!["--no-demo"];
    flags.extend_from_slice(extra);
    ServerProcess::start(&flags)
}

/// Opens a long-running GET and reads its response head.
fn open_stream(server: &ServerProcess, path: &str) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\r\n"
    )
    .expect("send");
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).expect("response head");
    assert_eq!(&head, b"HTTP/1.1 200", "{path}");
    stream
}

/// Reads until the server closes the connection; true if it did within the stream's timeout.
fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(_) => return false,
        }
    }
}

fn wait_exit(server: &mut ServerProcess, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signal(server: &ServerProcess, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &server.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[test]
fn sigterm_ends_watches_and_console_streams_and_exits_zero() {
    let mut server = start(&["--shutdown-grace", "20"]);
    let mut watch = open_stream(&server, "/api/v1/namespaces/default/services?watch=true");
    let mut console = open_stream(&server, "/services/watch?namespace=default");
    signal(&server, "TERM");
    assert!(closed_by_server(&mut watch), "the API watch was ended");
    assert!(
        closed_by_server(&mut console),
        "the console stream was ended"
    );
    let status = wait_exit(&mut server, Duration::from_secs(15)).expect("the server exited");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn sigint_with_an_open_console_page_exits_within_the_grace_period() {
    let mut server = start(&["--shutdown-grace", "2"]);
    // A client that keeps its connection open and never sends the rest of its request.
    let mut idle = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    idle.write_all(b"GET /services HTTP/1.1\r\n")
        .expect("partial request");
    let _console = open_stream(&server, "/services/watch?namespace=default");
    signal(&server, "INT");
    let status = wait_exit(&mut server, Duration::from_secs(10)).expect("the server exited");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn slow_and_idle_clients_are_disconnected_after_the_header_timeout() {
    let server = start(&["--header-read-timeout", "1"]);
    let mut slow = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    slow.write_all(b"GET /readyz HTTP/1.1\r\nHost: local")
        .expect("partial headers");
    let started = Instant::now();
    assert!(
        closed_by_server(&mut slow),
        "a slowloris client was cut off"
    );
    assert!(started.elapsed() < Duration::from_secs(8));
    // A kept-alive connection that sends no next request is closed too.
    let mut kept = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    kept.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    kept.write_all(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .expect("request");
    let started = Instant::now();
    assert!(
        closed_by_server(&mut kept),
        "an idle kept-alive client was cut off"
    );
    assert!(started.elapsed() < Duration::from_secs(8));
    // One connection slot: a client that holds it idle loses it, and the next is served.
    drop(server);
    let server = start(&["--header-read-timeout", "1", "--max-connections", "1"]);
    let _idle = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    std::thread::sleep(Duration::from_millis(200));
    let reply = server
        .get("/readyz")
        .expect("served after the idle client timed out");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}
