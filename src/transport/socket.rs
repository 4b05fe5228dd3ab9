//! The private directory that holds the plugin's unix socket.
//!
//! The directory is created 0700, so only our user can reach the socket, and
//! it is removed when [`SocketDir`] is dropped, which happens on every clean
//! exit path (Shutdown, SIGTERM, the host closing the socket).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::TransportError;

/// go-plugin lets the host choose where sockets go (for sandboxes where
/// `/tmp` is not shared); we honour the same variable.
pub const SOCKET_DIR_ENV: &str = "PLUGIN_UNIX_SOCKET_DIR";

#[derive(Debug)]
pub struct SocketDir {
    dir: tempfile::TempDir,
}

impl SocketDir {
    /// Creates a fresh private directory under `parent` (or the system temp
    /// directory) and checks the mode really is 0700: a umask or a file system
    /// that ignores modes must not silently widen access.
    pub fn create(parent: Option<&Path>) -> Result<Self, TransportError> {
        let mut builder = tempfile::Builder::new();
        builder
            .prefix("tf-huaweicloud-")
            .permissions(std::fs::Permissions::from_mode(0o700));
        let dir = match parent {
            Some(p) => builder.tempdir_in(p),
            None => builder.tempdir(),
        }
        .map_err(|e| TransportError::Socket(format!("creating socket directory: {e}")))?;
        let mode = std::fs::metadata(dir.path())
            .map_err(|e| TransportError::Socket(format!("reading socket directory: {e}")))?
            .permissions()
            .mode()
            & 0o777;
        if mode != 0o700 {
            return Err(TransportError::Socket(format!(
                "socket directory {} has mode {mode:o}, expected 700",
                dir.path().display()
            )));
        }
        Ok(Self { dir })
    }

    pub fn socket_path(&self) -> PathBuf {
        self.dir.path().join("plugin.sock")
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_is_private_and_removed_on_drop() {
        let parent = tempfile::tempdir().expect("parent");
        let dir = SocketDir::create(Some(parent.path())).expect("create");
        let path = dir.path().to_path_buf();
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        assert!(dir.socket_path().starts_with(&path));
        drop(dir);
        assert!(!path.exists(), "socket directory must be removed on drop");
    }

    #[test]
    fn missing_parent_is_an_error_not_a_panic() {
        let err = SocketDir::create(Some(Path::new("/nonexistent/definitely/not"))).unwrap_err();
        assert!(err.to_string().contains("socket directory"), "{err}");
    }
}
