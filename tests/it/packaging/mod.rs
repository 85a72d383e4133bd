//! What ships beside the binary: the container image, the Kubernetes manifests, the README and the
//! manual in `docs/`, and the Grafana dashboard.

mod dashboard;
mod docs;
mod image;
mod k8s;
