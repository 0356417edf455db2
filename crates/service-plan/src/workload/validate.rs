//! Validation of apps/v1 Deployments in kube-apiserver v1.32's words.
