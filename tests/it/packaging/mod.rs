//! What ships beside the binary: the container image, the Kubernetes manifests, the README and the
//! manual in `docs/`, the Grafana dashboard, and the
//! source tree's layers and codemap.

mod architecture;
mod dashboard;
mod docs;
mod image;
mod k8s;
