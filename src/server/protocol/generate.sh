#!/usr/bin/env bash
# Regenerates tcli_service.rs from tcli_service.thrift with Apache Thrift's compiler
# (Debian package thrift-compiler; the generated code needs the thrift crate of the same
# major version, 0.17).
set -euo pipefail
cd "$(dirname "$0")"
thrift --gen rs -out . tcli_service.thrift
