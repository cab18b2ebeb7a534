//! The one place documents' bytes are written, read and deleted: an [`ObjectStore`] (the local
//! file system under `DATA_DIR/files` by default, S3-compatible storage in production). Bytes
//! live under their sha256 (`blobs/ab/<sha256>`), once for any number of file rows; an upload is
//! first streamed to `staging/<id>` and moved to its hash once its type and size are accepted.

use crate::config::{S3Config, StoreConfig};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{TryStreamExt, stream::BoxStream};
use object_store::{
    GetOptions, GetRange, ObjectStore, WriteMultipart, aws::AmazonS3Builder,
    local::LocalFileSystem, path::Path,
};
use std::{ops::Range, sync::Arc};
use uuid::Uuid;

/// The store of documents' bytes, shared by the api and the jobs.
#[derive(Clone, Debug)]
pub struct FileStore {
    inner: Arc<dyn ObjectStore>,
    /// Bytes buffered before a part is written: S3 needs 5 MiB parts (but the last); the local
    /// store writes smaller ones, so an upload holds little memory.
    part_bytes: usize,
}

/// Parts written at once per upload (S3 uploads them in parallel); with the part size this
/// bounds an upload's memory.
const PARTS_IN_FLIGHT: usize = 2;

impl FileStore {
    /// Opens the store the settings name (creating the local directory).
    pub fn open(config: &StoreConfig) -> anyhow::Result<Self> {
        match config {
            StoreConfig::Local { dir } => {
                std::fs::create_dir_all(dir)?;
                Ok(Self {
                    inner: Arc::new(
                        LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true),
                    ),
                    part_bytes: 256 * 1024,
                })
            }
            StoreConfig::S3(s3) => Ok(Self {
                inner: Arc::new(s3_store(s3)?),
                part_bytes: 5 * 1024 * 1024,
            }),
        }
    }

    /// Where the bytes with this sha256 (lowercase hex) are kept.
    fn blob(sha256: &str) -> Path {
        Path::from(format!("blobs/{}/{sha256}", &sha256[..2.min(sha256.len())]))
    }

    fn staging(id: Uuid) -> Path {
        Path::from(format!("staging/{id}"))
    }

    /// Starts streaming the bytes of upload `id` into the staging area.
    pub async fn stage(&self, id: Uuid) -> object_store::Result<Staged> {
        let path = Self::staging(id);
        let upload = self.inner.put_multipart(&path).await?;
        Ok(Staged {
            writer: WriteMultipart::new_with_chunk_size(upload, self.part_bytes),
            id,
        })
    }

    /// Bytes `range` of the staged upload `id`.
    pub async fn read_staged(&self, id: Uuid, range: Range<u64>) -> object_store::Result<Bytes> {
        if range.is_empty() {
            return Ok(Bytes::new());
        }
        self.inner.get_range(&Self::staging(id), range).await
    }

    /// Moves the staged upload `id` to its hash (replacing identical bytes already there). The
    /// caller holds the hash's `file_blobs` row lock.
    pub async fn publish(&self, id: Uuid, sha256: &str) -> object_store::Result<()> {
        self.inner
            .rename(&Self::staging(id), &Self::blob(sha256))
            .await
    }

    /// Drops the staged upload `id`, if it is still there.
    pub async fn discard(&self, id: Uuid) -> object_store::Result<()> {
        ignore_missing(self.inner.delete(&Self::staging(id)).await)
    }

    /// Deletes the bytes of a hash no file row names any more. The caller holds the hash's
    /// `file_blobs` row lock.
    pub async fn delete_blob(&self, sha256: &str) -> object_store::Result<()> {
        ignore_missing(self.inner.delete(&Self::blob(sha256)).await)
    }

    /// Whether bytes with this hash are stored.
    pub async fn has_blob(&self, sha256: &str) -> object_store::Result<bool> {
        match self.inner.head(&Self::blob(sha256)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The bytes with this hash, or the `range` of them, as a stream.
    pub async fn read_blob(
        &self,
        sha256: &str,
        range: Option<Range<u64>>,
    ) -> object_store::Result<BoxStream<'static, object_store::Result<Bytes>>> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let got = self.inner.get_opts(&Self::blob(sha256), options).await?;
        Ok(got.into_stream())
    }

    /// Removes staged uploads last written before `before` (an api process stopped mid-upload);
    /// returns how many.
    pub async fn sweep_staging(&self, before: DateTime<Utc>) -> object_store::Result<u64> {
        let old: Vec<Path> = self
            .inner
            .list(Some(&Path::from("staging")))
            .try_filter(|m| futures::future::ready(m.last_modified < before))
            .map_ok(|m| m.location)
            .try_collect()
            .await?;
        let mut n = 0;
        for path in old {
            ignore_missing(self.inner.delete(&path).await)?;
            n += 1;
        }
        Ok(n)
    }
}

fn ignore_missing(r: object_store::Result<()>) -> object_store::Result<()> {
    match r {
        Err(object_store::Error::NotFound { .. }) => Ok(()),
        other => other,
    }
}

fn s3_store(s3: &S3Config) -> anyhow::Result<object_store::aws::AmazonS3> {
    let mut b = AmazonS3Builder::new()
        .with_bucket_name(&s3.bucket)
        .with_region(&s3.region)
        .with_virtual_hosted_style_request(!s3.path_style);
    if let Some(endpoint) = &s3.endpoint {
        b = b
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"));
    }
    if let (Some(key), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
        use secrecy::ExposeSecret;
        b = b
            .with_access_key_id(key)
            .with_secret_access_key(secret.expose_secret());
    }
    Ok(b.build()?)
}

/// An upload being streamed into the staging area.
pub struct Staged {
    writer: WriteMultipart,
    id: Uuid,
}

impl Staged {
    /// The upload's id (the file row's id once accepted).
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// Appends a chunk, waiting while earlier parts are still being written.
    pub async fn write(&mut self, chunk: Bytes) -> object_store::Result<()> {
        self.writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
        self.writer.put(chunk);
        Ok(())
    }

    /// Completes the staged object.
    pub async fn finish(self) -> object_store::Result<()> {
        self.writer.finish().await.map(|_| ())
    }

    /// Gives the upload up; nothing of it stays.
    pub async fn abort(self) {
        if let Err(e) = self.writer.abort().await {
            tracing::warn!(error = %e, "could not abort a staged upload");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn collect(
        stream: BoxStream<'static, object_store::Result<Bytes>>,
    ) -> object_store::Result<Vec<u8>> {
        stream
            .try_fold(Vec::new(), |mut v, b| {
                v.extend_from_slice(&b);
                futures::future::ready(Ok(v))
            })
            .await
    }

    #[tokio::test]
    async fn an_upload_is_staged_published_under_its_hash_and_deleted() {
        let dir = std::env::temp_dir().join(format!("lt-store-{}", Uuid::now_v7()));
        let store = FileStore::open(&StoreConfig::Local { dir: dir.clone() }).expect("open");
        let id = Uuid::now_v7();
        let mut staged = store.stage(id).await.expect("stage");
        for _ in 0..5 {
            staged
                .write(Bytes::from(vec![7u8; 100_000]))
                .await
                .expect("write");
        }
        staged.finish().await.expect("finish");
        let head = store.read_staged(id, 0..4).await.expect("read");
        assert_eq!(&head[..], &[7, 7, 7, 7]);
        store.publish(id, "abcdef").await.expect("publish");
        assert!(store.has_blob("abcdef").await.expect("head"));
        let part = collect(store.read_blob("abcdef", Some(10..20)).await.expect("get"))
            .await
            .expect("bytes");
        assert_eq!(part.len(), 10);
        store.delete_blob("abcdef").await.expect("delete");
        assert!(!store.has_blob("abcdef").await.expect("head"));
        store.discard(id).await.expect("discard of nothing is fine");
        let _ = std::fs::remove_dir_all(dir);
    }
}
