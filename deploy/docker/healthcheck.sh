#!/bin/bash
# The image's HEALTHCHECK without curl: GET a path of semgate's admin endpoint over bash's /dev/tcp and succeed on a
# 200 status line. Usage: semgate-healthcheck [/healthz|/readyz]   (port: $SEMGATE_ADMIN_PORT, default 9187)
path=${1:-/healthz}
port=${SEMGATE_ADMIN_PORT:-9187}
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$path" "$port" >&3
IFS= read -r -t 5 status <&3 || exit 1
case $status in
  "HTTP/1."?" 200"*) exit 0 ;;
  *) echo "${path}: ${status%$'\r'}" >&2; exit 1 ;;
esac
