//! File sources in object storage: `location: s3://bucket/prefix/` on AWS S3 or an S3-compatible server (MinIO,
//! Ceph, moto). One store per bucket is registered on the engine's runtime, so DataFusion's listing tables read the
//! files there exactly as they read local ones (schema inference, Hive-style partitions, row-group pruning).

use std::sync::Arc;

use datafusion::execution::object_store::ObjectStoreUrl;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;

/// How to reach a bucket; every field left `None` comes from the usual `AWS_*` environment variables (and, for
/// credentials, the rest of AWS's chain: web identity, ECS task role, instance metadata).
#[derive(Debug, Default, Clone)]
pub struct S3Settings {
    /// The bucket's region; `AWS_REGION` otherwise, then us-east-1.
    pub region: Option<String>,
    /// An S3-compatible server's URL; path-style requests are used there, as such servers expect.
    pub endpoint: Option<String>,
    /// Both keys or neither: a key id without its secret is reported before anything connects.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// `http://` endpoints refused unless allowed: credentials would cross the network in the clear.
    pub allow_http: bool,
}

/// A parsed `location`: a local directory, or a bucket and prefix in object storage.
#[derive(Debug, Clone, PartialEq)]
pub enum Location {
    Local(std::path::PathBuf),
    /// `s3://bucket/prefix`, without a trailing slash.
    S3 {
        bucket: String,
        prefix: String,
    },
}

impl Location {
    /// `text` as a location; relative local paths are resolved against `base_dir`. An error names the schemes
    /// that are understood.
    pub fn parse(text: &str, base_dir: &std::path::Path) -> Result<Self, String> {
        let Some((scheme, rest)) = text.split_once("://") else {
            return Ok(Self::Local(base_dir.join(text)));
        };
        match scheme {
            "file" => Ok(Self::Local(std::path::PathBuf::from(rest))),
            "s3" | "s3a" => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(format!("location `{text}` names no bucket: write s3://bucket/prefix/"));
                }
                Ok(Self::S3 {
                    bucket: bucket.to_string(),
                    prefix: prefix.trim_end_matches('/').to_string(),
                })
            }
            other => Err(format!(
                "location `{text}`: `{other}://` is not supported; use a local path or s3://bucket/prefix/"
            )),
        }
    }

    /// The URL or path of `table_path` (a file, a glob or a directory) under this location.
    pub fn join(&self, table_path: &str) -> String {
        match self {
            Self::Local(dir) => dir.join(table_path).to_string_lossy().into_owned(),
            Self::S3 { bucket, prefix } if prefix.is_empty() => format!("s3://{bucket}/{table_path}"),
            Self::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}/{table_path}"),
        }
    }
}

/// The store serving `bucket`, and the URL it is registered under on the runtime (`s3://bucket`).
pub fn s3_store(bucket: &str, settings: &S3Settings) -> Result<(ObjectStoreUrl, Arc<dyn ObjectStore>), String> {
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    if let Some(region) = &settings.region {
        builder = builder.with_region(region);
    }
    if let Some(endpoint) = &settings.endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    match (&settings.access_key_id, &settings.secret_access_key) {
        (Some(id), Some(secret)) => {
            builder = builder.with_access_key_id(id).with_secret_access_key(secret);
        }
        (None, None) => {}
        _ => return Err("give both `access_key_id_env` and `secret_access_key_env`, or neither".into()),
    }
    let store = builder
        .with_allow_http(settings.allow_http)
        .build()
        .map_err(|e| format!("bucket `{bucket}`: {e}"))?;
    let url = ObjectStoreUrl::parse(format!("s3://{bucket}")).map_err(|e| format!("bucket `{bucket}`: {e}"))?;
    Ok((url, Arc::new(store)))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::Location;

    #[test]
    fn locations_parse_into_local_directories_or_buckets() {
        let base = Path::new("/models");
        assert_eq!(
            Location::parse("data", base),
            Ok(Location::Local("/models/data".into()))
        );
        assert_eq!(Location::parse("/abs", base), Ok(Location::Local("/abs".into())));
        let s3 = Location::parse("s3://demo/tpch/sf1/", base).unwrap();
        assert_eq!(s3.join("orders.parquet"), "s3://demo/tpch/sf1/orders.parquet");
        let root = Location::parse("s3://demo", base).unwrap();
        assert_eq!(root.join("lineitem/"), "s3://demo/lineitem/");
        assert!(
            Location::parse("s3:///x", base)
                .unwrap_err()
                .contains("names no bucket")
        );
        assert!(
            Location::parse("gs://b/x", base)
                .unwrap_err()
                .contains("`gs://` is not supported")
        );
    }
}
