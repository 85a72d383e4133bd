//! `--web.config.file`: the web configuration of the Prometheus exporters (exporter-toolkit's
//! format, as node_exporter reads it): `tls_server_config` serves HTTPS, `basic_auth_users` asks
//! every request for a user and password checked against bcrypt hashes. [`Web::load`] reads it at
//! start-up, where anything wrong with it is an error; [`Web::refresh`] reads it again for each
//! new connection when it, or a file it names, has changed since, so that certificates rotate
//! without a restart. A file that turns invalid while serving is logged and the last valid one
//! keeps serving.

mod auth;
mod parse;
#[cfg(feature = "tls")]
mod tls;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

pub use auth::Users;
pub use parse::{ClientAuth, Settings, TlsSettings, TlsVersion};

/// A web configuration as it stands, its TLS set up and its users ready to check.
pub struct Loaded {
    pub settings: Settings,
    pub users: Users,
    #[cfg(feature = "tls")]
    tls: Option<Arc<rustls::ServerConfig>>,
}

/// The web configuration file and what it held when last read.
pub struct Web {
    path: PathBuf,
    state: Mutex<Current>,
}

/// The modification time and size of each file, `None` for one that cannot be read.
type Stamp = Vec<Option<(SystemTime, u64)>>;

struct Current {
    loaded: Arc<Loaded>,
    /// When and how big the file and the files it names were when it was read (or last found
    /// invalid), so that a change, and only a change, reads it again.
    stamp: Stamp,
}

impl Web {
    /// Reads and checks the file and every file it names (certificate, key, client CA).
    pub fn load(path: &Path) -> Result<Web, String> {
        let (loaded, stamp) = read(path)?;
        Ok(Web { path: path.to_path_buf(), state: Mutex::new(Current { loaded: Arc::new(loaded), stamp }) })
    }

    /// The file's path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The configuration now, without looking at the files.
    pub fn current(&self) -> Arc<Loaded> {
        self.lock().loaded.clone()
    }

    /// The configuration now, read again first if a file changed. An invalid file is logged once
    /// per change, and the last valid configuration stays.
    pub fn refresh(&self) -> Arc<Loaded> {
        let mut current = self.lock();
        let stamp = stamp(&self.path, &current.loaded.settings);
        if stamp != current.stamp {
            match read(&self.path) {
                Ok((loaded, stamp)) => {
                    log::info!("web config {} read again", self.path.display());
                    *current = Current { loaded: Arc::new(loaded), stamp };
                }
                Err(e) => {
                    log::error!("web config {}: {e}; the last valid one stays in force", self.path.display());
                    current.stamp = stamp;
                }
            }
        }
        current.loaded.clone()
    }

    /// Whether a request with this `Authorization` header may be answered.
    pub fn authorized(&self, authorization: Option<&str>) -> bool {
        self.current().users.authorized(authorization)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Current> {
        // What the lock guards is replaced whole, so a panic cannot leave it half-changed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Loaded {
    /// Whether connections are served over TLS.
    pub fn tls(&self) -> bool {
        self.settings.tls.is_some()
    }
}

/// Reads the file and builds what it asks for.
fn read(path: &Path) -> Result<(Loaded, Stamp), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let settings = parse::settings(&text, base)?;
    // The stamp is taken before the files are read: a change while reading them is seen next time.
    let stamp = stamp(path, &settings);
    let users = Users::new(&settings.users);
    #[cfg(feature = "tls")]
    let tls = settings.tls.as_ref().map(tls::server_config).transpose()?.map(Arc::new);
    #[cfg(not(feature = "tls"))]
    if settings.tls.is_some() {
        return Err(
            "tls_server_config: this build of metrics-generator has no TLS (built without the `tls` feature)".into()
        );
    }
    Ok((
        Loaded {
            settings,
            users,
            #[cfg(feature = "tls")]
            tls,
        },
        stamp,
    ))
}

/// The modification time and size of the file and of each file it names.
fn stamp(path: &Path, settings: &Settings) -> Stamp {
    let named = settings.tls.iter().flat_map(|t| [Some(&t.cert_file), Some(&t.key_file), t.client_ca_file.as_ref()]);
    std::iter::once(path)
        .chain(named.flatten().map(PathBuf::as_path))
        .map(|p| std::fs::metadata(p).ok().and_then(|m| Some((m.modified().ok()?, m.len()))))
        .collect()
}

/// What serves each new connection: over TLS when the web configuration (read again if it
/// changed) has a `tls_server_config`, else as it is.
pub fn wrap(web: Arc<Web>) -> Arc<tiny_http::Wrap> {
    Arc::new(move |socket| {
        let loaded = web.refresh();
        #[cfg(feature = "tls")]
        if let Some(config) = &loaded.tls {
            return tls::wrap(config.clone(), socket);
        }
        drop(loaded);
        Ok(tiny_http::Wrapped::Plain(socket))
    })
}
