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

/// The server's resident memory, from `/proc`.
fn rss_mib(server: &ServerProcess) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id()))
        .expect("the server's /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmRSS")
        / 1024
}

/// `len` characters that LZ4 cannot shrink much (a seeded xorshift over 64 letters).
fn noise(seed: u64, len: usize) -> String {
    const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(LETTERS[(x % 64) as usize])
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_watchers_do_not_grow_memory_without_bound() {
    const WATCHERS: usize = 20;
    const WRITES: usize = 3_000;
    const VALUE_LEN: usize = 8 * 1024;
    let server = start(&[]);
    let client = reqwest::Client::new();
    let services = format!("{}/api/v1/namespaces/default/services", server.url);
    for w in 0..4 {
        let created = client
            .post(&services)
            .header("Content-Type", "application/json")
            .body(format!(r#"{{"apiVersion":"v1","kind":"Service","metadata":{{"name":"busy-{w}"}},"spec":{{"ports":[{{"port":80}}]}}}}"#))
            .send()
            .await
            .expect("create");
        assert_eq!(created.status(), 201);
    }
    // Watchers that send their request and never read: once the kernel's buffers are full,
    // everything else they are owed would have to wait in the server.
    let stalled: Vec<TcpStream> = (0..WATCHERS)
        .map(|_| open_stream(&server, "/api/v1/namespaces/default/services?watch=true"))
        .collect();
    let before = rss_mib(&server);
    // Every write changes an 8 KiB annotation: each watcher is owed ~24 MiB of events, ~480
    // MiB for all of them, far beyond the kernel's socket buffers. One writer per Service.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (client, url) = (client.clone(), format!("{services}/busy-{w}"));
            tokio::spawn(async move {
                for i in (w..WRITES).step_by(4) {
                    let patch = serde_json::json!({"metadata": {"annotations": {"blob": noise(i as u64, VALUE_LEN)}}});
                    let reply = client
                        .patch(&url)
                        .header("Content-Type", "application/merge-patch+json")
                        .body(patch.to_string())
                        .send()
                        .await
                        .expect("patch");
                    assert_eq!(reply.status(), 200);
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    let after = rss_mib(&server);
    assert!(
        after < before + 160,
        "{WATCHERS} stalled watchers took the server from {before} MiB to {after} MiB"
    );
    // The server still answers, and a stalled watcher that reads again gets its events.
    let reply = client.get(&services).send().await.expect("list");
    assert_eq!(reply.status(), 200);
    let mut first = stalled.into_iter().next().expect("a watcher");
    let mut buf = vec![0u8; 64 * 1024];
    let n = first.read(&mut buf).expect("the stalled watcher reads");
    assert!(n > 0);
}
