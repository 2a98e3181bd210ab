//! deploy/ as a platform team copies it (the image cannot be built here: no container engine): every manifest is
//! YAML, the configurations it ships load as semgate reads them (unknown keys, bad values and missing model files
//! fail) and their model files are models, and the Deployment's config checksum is the ConfigMap's. (The published
//! JSON Schemas are checked in tests/cli.rs.)

use std::path::{Path, PathBuf};

use semgate::config::Config;
use yaml_rust2::{Yaml, YamlLoader};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn yaml_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            found.push(path);
        }
    }
}

fn documents(path: &Path) -> Vec<Yaml> {
    let text = std::fs::read_to_string(path).unwrap();
    YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Load a configuration as semgate does, from `dir`, with `/usr/share/semgate/` (the image's copy of the repository's
/// model) read from the repository; its model files must parse as models.
fn load(dir: &Path, config: &str) -> Config {
    let config = config.replace("/usr/share/semgate/", &format!("{}/", repo().display()));
    let path = dir.join("semgate.yml");
    std::fs::write(&path, config).unwrap();
    let loaded = Config::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
    for model in &loaded.model {
        let parsed: Result<semgate::semantic::spec::ModelFile, _> = marked_yaml::from_yaml(0, &model.text);
        parsed.unwrap_or_else(|e| panic!("{}: {e}", model.name));
    }
    loaded
}

#[test]
#[allow(unsafe_code)] // Setting the password variables the configurations name; see the SAFETY note.
fn deploy_manifests_and_configurations_are_what_semgate_reads() {
    let deploy = repo().join("deploy");
    let mut files = Vec::new();
    yaml_files(&deploy, &mut files);
    assert!(files.len() >= 10, "{files:?}");
    for file in &files {
        assert!(!documents(file).is_empty(), "{} is empty", file.display());
    }
    // SAFETY: this test binary has this one test; nothing else reads the environment while it runs.
    unsafe {
        for variable in [
            "SEMGATE_ANALYST_PASSWORD",
            "SEMGATE_EMEA_PASSWORD",
            "WAREHOUSE_PASSWORD",
            "SEMGATE_CLUSTER_SECRET",
        ] {
            std::env::set_var(variable, "from-the-secret");
        }
    }

    // compose: the configuration beside its sources.yml.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(deploy.join("compose/sources.yml"), dir.path().join("sources.yml")).unwrap();
    let compose = load(
        dir.path(),
        &std::fs::read_to_string(deploy.join("compose/semgate.yml")).unwrap(),
    );
    assert!(
        compose
            .tls
            .as_ref()
            .is_some_and(|tls| tls.required && tls.client_ca_file.is_some())
    );
    assert!(
        compose
            .users
            .get("reporting")
            .is_some_and(|u| u.cert_identity.is_some())
    );
    assert_eq!(compose.admin_addr.map(|a| a.port()), Some(9187));

    // Kubernetes: the ConfigMap's files, as the pod sees them in /etc/semgate.
    let configmap = &documents(&deploy.join("kubernetes/configmap.yaml"))[0];
    let data = &configmap["data"];
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sources.yml"), data["sources.yml"].as_str().unwrap()).unwrap();
    let kubernetes = load(dir.path(), data["semgate.yml"].as_str().unwrap());
    assert_eq!(kubernetes.log_format, semgate::config::LogFormat::Json);
    // A config change rolls the pods: the annotation is the ConfigMap's digest.
    let deployment = &documents(&deploy.join("kubernetes/deployment.yaml"))[0];
    let annotation = deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        .as_str()
        .unwrap();
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        &std::fs::read(deploy.join("kubernetes/configmap.yaml")).unwrap(),
    );
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        annotation, hex,
        "update checksum/config (the sed line atop configmap.yaml)"
    );

    // The image's own configuration, next to the model as the image lays it out.
    let image = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(repo().join("semantic"), image.path().join("semantic")).unwrap();
    std::fs::create_dir(image.path().join("demo")).unwrap();
    let demo = load(
        &image.path().join("demo"),
        &std::fs::read_to_string(deploy.join("docker/semgate.yml")).unwrap(),
    );
    assert_eq!(demo.users.names().count(), 3);

    // The cluster: the coordinator's configuration names compose.distributed.yaml's worker services.
    let cluster = load(
        tempfile::tempdir().unwrap().path(),
        &std::fs::read_to_string(deploy.join("compose/distributed.yml")).unwrap(),
    );
    let distributed = cluster.distributed.expect("a distributed section");
    let compose = &documents(&deploy.join("compose.distributed.yaml"))[0];
    for worker in &distributed.workers {
        let service = worker.host_str().unwrap();
        assert!(
            !compose["services"][service].is_badvalue(),
            "{worker}: no service {service} in compose.distributed.yaml"
        );
    }
    assert_eq!(distributed.secret, "from-the-secret");
    assert_eq!(distributed.advertise.unwrap().host_str(), Some("coordinator"));
}
