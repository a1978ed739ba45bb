#!/bin/sh
# deploy/prometheus/ as Prometheus reads it: `promtool check config` on prometheus.yml (which
# loads alerts.yml), `promtool check rules` on alerts.yml, and `promtool test rules` with the
# series of alerts_test.yml, where each alert must fire where it should and nowhere else.
# Usage: prometheus_rules_check.sh SOURCE_DIR. Exit 77 (skipped) without promtool.
set -eu
dir=$1/deploy/prometheus
if ! command -v promtool >/dev/null; then
  echo "SKIP: promtool is not installed (Debian package prometheus)"
  exit 77
fi
# promtool resolves rule_files relative to the file naming them, wherever it runs.
promtool check config "$dir/prometheus.yml"
promtool check rules "$dir/alerts.yml"
promtool test rules "$dir/alerts_test.yml"
