//! Object storage for uploaded files (order exports and snapshot CSVs now; evidence and
//! deliverables later), over
//! the `object_store` crate: a folder under `SEXTANT_DATA_DIR/objects` by default, an
//! S3-compatible bucket when `SEXTANT_S3_BUCKET` is set. Writes are streamed (multipart upload,
//! a chunk at a time) with the SHA-256 and byte count taken on the way; reads are streamed to a
//! temporary file, which the synchronous parsers read (and seek, for XLSX).

use std::fmt::Write;
use std::path::Path as FsPath;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, WriteMultipart};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::S3Settings;

/// Parts in flight at once while uploading (each part is 5 MiB: the memory one upload can hold).
const UPLOAD_CONCURRENCY: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object storage: {0}")]
    Store(#[from] object_store::Error),
    #[error("object storage: {0}")]
    Io(#[from] std::io::Error),
    #[error("object storage: {0}")]
    Setup(String),
}

/// Why a streamed upload was not stored (nothing of it is kept).
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("the upload is larger than the limit")]
    TooLarge,
    #[error("the upload broke off")]
    Broken,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Where uploads live. Cheap to clone.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    description: String,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

/// What a finished upload was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub key: String,
    pub bytes: u64,
    /// Lower-case hex.
    pub sha256: String,
}

impl Storage {
    /// The bucket when `s3` is given, else `<data_dir>/objects`.
    pub fn open(data_dir: &FsPath, s3: Option<&S3Settings>) -> Result<Storage, StorageError> {
        match s3 {
            Some(s3) => Storage::s3(s3),
            None => Storage::local(&data_dir.join("objects")),
        }
    }

    /// Settings read straight from the environment (for commands without a `Config`, like the
    /// demo seeder): `SEXTANT_DATA_DIR` and the `SEXTANT_S3_*` variables.
    pub fn from_env() -> Result<Storage, StorageError> {
        Storage::open(
            &crate::config::data_dir_from_env(),
            S3Settings::from_env().as_ref(),
        )
    }

    pub fn local(root: &FsPath) -> Result<Storage, StorageError> {
        std::fs::create_dir_all(root)?;
        let store = LocalFileSystem::new_with_prefix(root)?.with_automatic_cleanup(true);
        Ok(Storage {
            store: Arc::new(store),
            description: format!("local folder {}", root.display()),
        })
    }

    pub fn s3(s3: &S3Settings) -> Result<Storage, StorageError> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&s3.bucket)
            .with_region(&s3.region);
        if let Some(endpoint) = &s3.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
        }
        let store = builder
            .build()
            .map_err(|e| StorageError::Setup(e.to_string()))?;
        Ok(Storage {
            store: Arc::new(store),
            description: format!("S3 bucket {}", s3.bucket),
        })
    }

    /// `tenants/<tenant>/<purpose>/<upload>`.
    pub fn key(tenant_id: Uuid, purpose: &str, upload_id: Uuid) -> String {
        format!("tenants/{tenant_id}/{purpose}/{upload_id}")
    }

    /// Starts a streamed upload to `key`; nothing is visible under the key until `finish`.
    pub async fn writer(&self, key: &str) -> Result<ObjectWriter, StorageError> {
        let upload = self.store.put_multipart(&Path::from(key)).await?;
        Ok(ObjectWriter {
            key: key.to_string(),
            upload: WriteMultipart::new(upload),
            hasher: Sha256::new(),
            bytes: 0,
        })
    }

    /// Streams a request body (a multipart field) into `key` as it comes, at most `max` bytes.
    /// Past `max` the parts written are removed and the rest of the body is read and dropped,
    /// so a client still sending gets the answer instead of a reset connection.
    pub async fn store_stream<E>(
        &self,
        key: &str,
        body: impl futures_util::Stream<Item = Result<Bytes, E>>,
        max: u64,
    ) -> Result<StoredObject, StreamError> {
        let mut body = std::pin::pin!(body);
        let mut writer = self.writer(key).await?;
        while let Some(chunk) = body.next().await {
            let Ok(chunk) = chunk else {
                writer.abort().await;
                return Err(StreamError::Broken);
            };
            if writer.bytes() + chunk.len() as u64 > max {
                writer.abort().await;
                while let Some(Ok(_)) = body.next().await {}
                return Err(StreamError::TooLarge);
            }
            if let Err(e) = writer.write(&chunk).await {
                writer.abort().await;
                return Err(e.into());
            }
        }
        Ok(writer.finish().await?)
    }

    /// Stores bytes held in memory (an evidence file, an API batch), in parts of at most 5 MiB,
    /// the size object storage takes one at a time.
    pub async fn put_bytes(&self, key: &str, bytes: &[u8]) -> Result<StoredObject, StorageError> {
        let mut writer = self.writer(key).await?;
        for chunk in bytes.chunks(5 << 20) {
            if let Err(e) = writer.write(chunk).await {
                writer.abort().await;
                return Err(e);
            }
        }
        writer.finish().await
    }

    /// Copies a local file into storage in chunks (benchmarks, the demo seeder).
    pub async fn put_file(&self, key: &str, file: &FsPath) -> Result<StoredObject, StorageError> {
        use tokio::io::AsyncReadExt;
        let mut source = tokio::fs::File::open(file).await?;
        let mut writer = self.writer(key).await?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = source.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            if let Err(e) = writer.write(&buf[..n]).await {
                writer.abort().await;
                return Err(e);
            }
        }
        writer.finish().await
    }

    /// Up to the first `limit` bytes of an object.
    pub async fn prefix(&self, key: &str, limit: u64) -> Result<Bytes, StorageError> {
        let path = Path::from(key);
        let size = self.store.head(&path).await?.size;
        if size == 0 {
            return Ok(Bytes::new());
        }
        Ok(self.store.get_range(&path, 0..size.min(limit)).await?)
    }

    /// Streams an object into a fresh temporary file (deleted when dropped), rewound.
    pub async fn spool(&self, key: &str) -> Result<tempfile::NamedTempFile, StorageError> {
        let mut stream = self.store.get(&Path::from(key)).await?.into_stream();
        let spool = tokio::task::spawn_blocking(tempfile::NamedTempFile::new)
            .await
            .map_err(|e| StorageError::Setup(e.to_string()))??;
        let mut out = tokio::fs::File::from_std(spool.reopen()?);
        while let Some(chunk) = stream.next().await {
            tokio::io::AsyncWriteExt::write_all(&mut out, &chunk?).await?;
        }
        tokio::io::AsyncWriteExt::flush(&mut out).await?;
        Ok(spool)
    }

    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        Ok(self.store.delete(&Path::from(key)).await?)
    }
}

/// An upload in progress: chunks go out as parts while the hash and size are kept.
pub struct ObjectWriter {
    key: String,
    upload: WriteMultipart,
    hasher: Sha256,
    bytes: u64,
}

impl ObjectWriter {
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), StorageError> {
        self.hasher.update(chunk);
        self.bytes += chunk.len() as u64;
        self.upload.wait_for_capacity(UPLOAD_CONCURRENCY).await?;
        self.upload.write(chunk);
        Ok(())
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub async fn finish(self) -> Result<StoredObject, StorageError> {
        self.upload.finish().await?;
        let digest = self.hasher.finalize();
        let mut sha256 = String::with_capacity(64);
        for b in digest {
            let _ = write!(sha256, "{b:02x}");
        }
        Ok(StoredObject {
            key: self.key,
            bytes: self.bytes,
            sha256,
        })
    }

    /// Gives up: the parts written so far are removed.
    pub async fn abort(self) {
        if let Err(e) = self.upload.abort().await {
            tracing::warn!(error = %e, key = %self.key, "object storage: abort failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_streamed_upload_reads_back_whole_with_its_hash() {
        let dir = tempfile::tempdir().expect("temp dir");
        let storage = Storage::local(dir.path()).expect("storage");
        let key = Storage::key(Uuid::nil(), "orders", Uuid::now_v7());
        let mut writer = storage.writer(&key).await.expect("writer");
        let chunk = vec![b'x'; 700_000];
        for _ in 0..10 {
            writer.write(&chunk).await.expect("write");
        }
        let stored = writer.finish().await.expect("finish");
        assert_eq!(stored.bytes, 7_000_000);
        let expected: String = Sha256::digest(vec![b'x'; 7_000_000])
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(stored.sha256, expected);
        // A fresh handle on the same folder (a restart) still finds it.
        let again = Storage::local(dir.path()).expect("storage");
        let spooled = again.spool(&key).await.expect("spool");
        assert_eq!(
            std::fs::metadata(spooled.path()).expect("meta").len(),
            7_000_000
        );
        assert_eq!(again.prefix(&key, 10).await.expect("prefix").len(), 10);
        again.delete(&key).await.expect("delete");
        assert!(again.spool(&key).await.is_err());
    }

    #[tokio::test]
    async fn a_stream_over_the_limit_is_read_to_its_end_and_nothing_is_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let storage = Storage::local(dir.path()).expect("storage");
        let key = Storage::key(Uuid::nil(), "snapshots", Uuid::now_v7());
        let chunks = || {
            futures_util::stream::iter(
                (0..10).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 1000]))),
            )
        };
        let stored = storage
            .store_stream(&key, chunks(), 10_000)
            .await
            .expect("exactly at the limit");
        assert_eq!(stored.bytes, 10_000);
        storage.delete(&key).await.expect("delete");
        let read = std::sync::atomic::AtomicUsize::new(0);
        let counted = chunks().inspect(|_| {
            read.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        let refused = storage.store_stream(&key, counted, 9_999).await;
        assert!(matches!(refused, Err(StreamError::TooLarge)), "{refused:?}");
        assert_eq!(read.into_inner(), 10, "the rest of the body was read");
        assert!(storage.spool(&key).await.is_err(), "nothing kept");
        let broken = futures_util::stream::iter([
            Ok(Bytes::from_static(b"a,b\n")),
            Err(std::io::Error::other("reset")),
        ]);
        assert!(matches!(
            storage.store_stream(&key, broken, 100).await,
            Err(StreamError::Broken)
        ));
    }
}
