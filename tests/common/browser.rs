//! Headless Chromium for browser tests: starts `chromedriver` on a free
//! port, opens a session with a fresh profile and the given viewport, saves
//! numbered screenshots under `target/screenshots/<test>/NN-step.png`, and
//! kills chromedriver and its browser when dropped.
//!
//! ```ignore
//! let mut b = common::browser::Browser::start("my_test", 1366, 768).await;
//! b.client.goto(&app.url("/staff/login")).await.unwrap();
//! b.shot("login").await;
//! b.close().await;
//! ```
#![allow(dead_code)]

use fantoccini::{Client, ClientBuilder, Locator};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    pub client: Client,
    driver: Option<Child>,
    _profile: tempfile::TempDir,
    pub dir: PathBuf,
    step: u32,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Where screenshots of `test` go (created, emptied of old shots).
pub fn screenshot_dir(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("screenshots").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

impl Browser {
    pub fn available() -> bool {
        std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists()
    }

    /// A browser whose window (and so its viewport, headless) is `width`×`height`.
    pub async fn start(test: &str, width: u32, height: u32) -> Browser {
        // Two rustls crypto providers are compiled in (via reqwest and fantoccini): choose one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        assert!(Self::available(), "chromium and chromedriver are required at {CHROMIUM} and {CHROMEDRIVER}");
        let port = free_port();
        let mut cmd = Command::new(CHROMEDRIVER);
        cmd.arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null());
        #[cfg(unix)]
        {
            // Its own process group, so that dropping kills Chromium too.
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let driver = cmd.spawn().expect("start chromedriver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen on port {port}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--hide-scrollbars".into(),
            "--lang=zh-CN".into(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), serde_json::json!({"binary": CHROMIUM, "args": args}));
        let mut driver = Some(driver);
        let client = match ClientBuilder::rustls().expect("rustls").capabilities(caps).connect(&format!("http://127.0.0.1:{port}")).await {
            Ok(c) => c,
            Err(e) => {
                kill(&mut driver);
                panic!("new browser session: {e}");
            }
        };
        // Make the viewport (not the window) the asked size: grow the window by
        // whatever the browser's own frame takes.
        let _ = client.set_window_size(width, height).await;
        if let Ok(v) = client.execute("return [window.innerWidth, window.innerHeight];", vec![]).await {
            if let Ok([iw, ih]) = serde_json::from_value::<[u32; 2]>(v) {
                if (iw, ih) != (width, height) {
                    let _ = client.set_window_size(width + width.saturating_sub(iw), height + height.saturating_sub(ih)).await;
                }
            }
        }
        Browser { client, driver, _profile: profile, dir: screenshot_dir(test), step: 0 }
    }

    /// Saves `NN-step.png` and returns its path.
    pub async fn shot(&mut self, step: &str) -> PathBuf {
        self.step += 1;
        let png = self.client.screenshot().await.expect("screenshot");
        let path = self.dir.join(format!("{:02}-{step}.png", self.step));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    pub async fn find_css(&self, css: &str) -> fantoccini::elements::Element {
        self.client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"))
    }

    /// Waits (up to 10 s) until the page's text contains `needle`, and returns the text.
    pub async fn wait_text(&self, needle: &str) -> String {
        for _ in 0..100 {
            let t = self.body_text().await;
            if t.contains(needle) {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("page never showed {needle:?}; it shows: {}", self.body_text().await)
    }

    /// Text of the whole page (empty while a navigation replaces it).
    pub async fn body_text(&self) -> String {
        for _ in 0..20 {
            if let Ok(body) = self.client.find(Locator::Css("body")).await {
                if let Ok(t) = body.text().await {
                    return t;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        String::new()
    }

    /// Ends the session (Chromium quits), then stops chromedriver.
    pub async fn close(mut self) {
        let client = self.client.clone();
        let _ = client.close().await;
        kill(&mut self.driver);
    }
}

fn kill(driver: &mut Option<Child>) {
    if let Some(mut child) = driver.take() {
        #[cfg(unix)]
        {
            // Kill chromedriver's process group (Chromium too). Spelled
            // `kill -s KILL -- -PGID`: procps-ng 4.0.2's kill (Debian 12)
            // misreads `kill -KILL -PGID` as `kill(-1, SIGKILL)`, which kills
            // every process on the machine.
            let pgid = child.id();
            if pgid > 1 {
                let _ = Command::new("kill").args(["-s", "KILL", "--", &format!("-{pgid}")]).status();
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill(&mut self.driver);
    }
}
