#!/bin/sh
# Traffic hook for `shipgate watch`: move PERCENT% of traffic to the canary.
#
# Shipgate runs it once per phase as `hooks/set-weight.sh {percent}`, from
# the directory of shipgate.toml, with SHIPGATE_PERCENT, SHIPGATE_PHASE,
# SHIPGATE_PREVIOUS_PERCENT, SHIPGATE_SERVICE, SHIPGATE_ENVIRONMENT and
# SHIPGATE_VERSION set. Exit 0 when the traffic has moved; any other exit
# status (or running past hook_timeout) makes the watch roll back, since
# the canary's share is then unknown. Its output is kept in the report and
# the decision log.
set -eu

percent="${1:?usage: set-weight.sh PERCENT}"

case "${TRAFFIC_BACKEND:-argo}" in
argo)
  # Argo Rollouts with a canary strategy whose steps are paused: set the
  # weight and let the controller move the traffic.
  kubectl argo rollouts set weight "$SHIPGATE_SERVICE" "$percent" \
    --namespace "${NAMESPACE:-$SHIPGATE_ENVIRONMENT}"
  ;;
flag)
  # A percentage rollout behind a feature flag.
  flagctl set "${FLAG:-$SHIPGATE_SERVICE-v2}" --percentage "$percent"
  ;;
script)
  # The playbooks' own script.
  ./deploy.sh --environment "$SHIPGATE_ENVIRONMENT" --percentage "$percent"
  ;;
*)
  echo "unknown TRAFFIC_BACKEND=$TRAFFIC_BACKEND" >&2
  exit 2
  ;;
esac

echo "$SHIPGATE_SERVICE $SHIPGATE_VERSION: $SHIPGATE_PREVIOUS_PERCENT% -> $percent%"
