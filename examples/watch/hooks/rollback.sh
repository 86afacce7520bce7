#!/bin/sh
# Rollback hook for `shipgate watch`: the playbooks' one-command rollback.
#
# Shipgate runs it at once when the canary-stage policies decide `rollback`
# (or a traffic hook fails), with SHIPGATE_REASON set to the findings that
# asked for it. It runs at most once per watch. TRAFFIC_BACKEND is read as
# in set-weight.sh (default none: log what would be done, move nothing).
set -eu

backend="${TRAFFIC_BACKEND:-none}"

case "$backend" in
none)
  echo "TRAFFIC_BACKEND=none: would roll back $SHIPGATE_SERVICE $SHIPGATE_VERSION in" \
    "$SHIPGATE_ENVIRONMENT from $SHIPGATE_PERCENT% of traffic ($SHIPGATE_REASON);" \
    "nothing moved"
  exit 0
  ;;
argo) kubectl argo rollouts abort "$SHIPGATE_SERVICE" --namespace "${NAMESPACE:-$SHIPGATE_ENVIRONMENT}" ;;
flag) flagctl set "${FLAG:-$SHIPGATE_SERVICE-v2}" --percentage 0 ;;
script) ./deploy.sh --environment "$SHIPGATE_ENVIRONMENT" --rollback ;;
*)
  echo "unknown TRAFFIC_BACKEND=$backend: use none, argo, flag or script" >&2
  exit 2
  ;;
esac

echo "rolled back $SHIPGATE_SERVICE $SHIPGATE_VERSION from $SHIPGATE_PERCENT%: $SHIPGATE_REASON"
