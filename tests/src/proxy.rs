//! A TCP proxy a test can cut: the database "goes away" for one app while the
//! shared PostgreSQL server keeps running for everyone else.

use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the proxy does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyMode {
    /// Forwards every byte both ways.
    Forward,
    /// Closes every open connection, and each new one as soon as it is accepted
    /// (the server is down).
    Refuse,
    /// Closes every open connection; new ones are accepted and never answered
    /// (the host is unreachable).
    BlackHole,
}

struct Shared {
    target: SocketAddr,
    mode: Mutex<ProxyMode>,
    open: Mutex<Vec<TcpStream>>,
    stop: AtomicBool,
}

/// A thread-based TCP proxy on `127.0.0.1`, forwarding to one target.
pub struct TcpProxy {
    port: u16,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl TcpProxy {
    /// Starts forwarding from a free local port to `target` (`host:port`).
    pub fn start(target: &str) -> TcpProxy {
        let target = target
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .unwrap_or_else(|| panic!("cannot resolve the proxy target {target}"));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let port = listener.local_addr().expect("proxy address").port();
        let shared = Arc::new(Shared {
            target,
            mode: Mutex::new(ProxyMode::Forward),
            open: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let accepting = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("test-tcp-proxy".to_owned())
            .spawn(move || accept_loop(&listener, &accepting))
            .expect("spawn the proxy");
        TcpProxy {
            port,
            shared,
            thread: Some(thread),
        }
    }

    /// The local port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Changes what the proxy does; leaving `Forward` cuts every open connection.
    pub fn set_mode(&self, mode: ProxyMode) {
        *self.shared.mode.lock().unwrap_or_else(|p| p.into_inner()) = mode;
        if mode != ProxyMode::Forward {
            close_all(&self.shared);
        }
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        close_all(&self.shared);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn close_all(shared: &Shared) {
    let open = std::mem::take(&mut *shared.open.lock().unwrap_or_else(|p| p.into_inner()));
    for stream in open {
        let _ = stream.shutdown(Shutdown::Both);
    }
}

fn keep(shared: &Shared, stream: &TcpStream) {
    if let Ok(clone) = stream.try_clone() {
        shared
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(clone);
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::Acquire) {
        let client = match listener.accept() {
            Ok((client, _)) => client,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            Err(_) => continue,
        };
        let _ = client.set_nonblocking(false);
        let mode = *shared.mode.lock().unwrap_or_else(|p| p.into_inner());
        match mode {
            ProxyMode::Refuse => drop(client),
            ProxyMode::BlackHole => keep(shared, &client),
            ProxyMode::Forward => {
                let Ok(upstream) =
                    TcpStream::connect_timeout(&shared.target, Duration::from_secs(5))
                else {
                    continue;
                };
                keep(shared, &client);
                keep(shared, &upstream);
                pump(&client, &upstream);
                pump(&upstream, &client);
            }
        }
    }
}

/// Copies `from` to `to` on its own thread; when either side ends, both close.
fn pump(from: &TcpStream, to: &TcpStream) {
    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("test-tcp-proxy-pump".to_owned())
        .spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
        });
}

/// The `host:port` a PostgreSQL URL points at (port 5432 when none is given).
pub fn postgres_host_port(url: &str) -> String {
    let authority = authority(url);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    }
}

/// `url` with its host and port replaced by `127.0.0.1:port`, user and database kept.
pub fn via_local_port(url: &str, port: u16) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let authority = authority(url);
    let end = start + authority.len();
    let user = authority.rsplit_once('@').map(|(u, _)| format!("{u}@"));
    format!(
        "{}{}127.0.0.1:{port}{}",
        &url[..start],
        user.unwrap_or_default(),
        &url[end..]
    )
}

fn authority(url: &str) -> &str {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    &rest[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_pointed_at_the_proxy() {
        let url = "postgres://postgres:pw@db.example:6543/guild?sslmode=disable";
        assert_eq!(postgres_host_port(url), "db.example:6543");
        assert_eq!(
            via_local_port(url, 7000),
            "postgres://postgres:pw@127.0.0.1:7000/guild?sslmode=disable"
        );
        assert_eq!(
            postgres_host_port("postgres://postgres@localhost/x"),
            "localhost:5432"
        );
        assert_eq!(
            via_local_port("postgres://h/x", 1),
            "postgres://127.0.0.1:1/x"
        );
    }
}
