#!/bin/sh
# Rollback hook for `shipgate watch`: the playbooks' one-command rollback.
#
# Shipgate runs it at once when the canary-stage policies decide `rollback`
# (or a traffic hook fails), with SHIPGATE_REASON set to the findings that
# asked for it. It runs at most once per watch.
set -eu

echo "rolling back $SHIPGATE_SERVICE $SHIPGATE_VERSION at $SHIPGATE_PERCENT%: $SHIPGATE_REASON"
case "${TRAFFIC_BACKEND:-argo}" in
argo) kubectl argo rollouts abort "$SHIPGATE_SERVICE" --namespace "${NAMESPACE:-$SHIPGATE_ENVIRONMENT}" ;;
flag) flagctl set "${FLAG:-$SHIPGATE_SERVICE-v2}" --percentage 0 ;;
script) ./deploy.sh --environment "$SHIPGATE_ENVIRONMENT" --rollback ;;
esac
