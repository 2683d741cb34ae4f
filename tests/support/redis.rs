//! A private redis-server on a free port, killed on drop: a Redis a test or benchmark may
//! pause, cut off or measure without touching anyone else's. Shared by the test suite and the
//! benchmarks.
use std::{
    net::SocketAddr,
    process::{Child, Command, Stdio},
    time::Duration,
};

pub struct OwnRedis {
    pub child: Child,
    pub addr: SocketAddr,
    pub url: String,
}

impl OwnRedis {
    /// `None` when redis-server is not installed (CI installs it).
    pub async fn start() -> Option<OwnRedis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().ok()?;
        let redis = OwnRedis {
            child,
            addr,
            url: format!("redis://{addr}"),
        };
        for _ in 0..50 {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Some(redis);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }

    /// Sends a signal (`-STOP` pauses it, `-CONT` resumes it).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
