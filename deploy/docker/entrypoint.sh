#!/bin/sh
# The container's entrypoint.
#   demo (the default)  generate the TPC-H demo data under /var/lib/semgate (once per volume, scale
#                       $SEMGATE_DEMO_SCALE, default 0.1), then serve it with /usr/share/semgate/demo/semgate.yml:
#                       listening on 0.0.0.0, admin endpoints on :9187, users analyst, emea, marketing.
#   anything else       run as `semgate <arguments>`, e.g. serve --config /etc/semgate/semgate.yml
# Plain `semgate serve` without --config also serves the demo, but on 127.0.0.1 (unreachable from outside the
# container) and without the admin endpoints the HEALTHCHECK reads: hence this mode.
set -eu
if [ "${1:-demo}" = demo ]; then
  if [ $# -gt 0 ]; then shift; fi
  # demo-data prints the directory it wrote (tpch-sf<scale>), which the demo model's ${data_dir} must name.
  dir=$(semgate demo-data --data-dir /var/lib/semgate --scale "${SEMGATE_DEMO_SCALE:-0.1}")
  exec semgate serve --config /usr/share/semgate/demo/semgate.yml --data-dir "$dir" "$@"
fi
exec semgate "$@"
