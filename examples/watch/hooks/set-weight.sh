#!/bin/sh
# Traffic hook for `shipgate watch`: move PERCENT% of traffic to the canary.
#
# Shipgate runs it once per phase as `hooks/set-weight.sh {percent}`, from
# the directory of shipgate.toml, with SHIPGATE_PERCENT, SHIPGATE_PHASE,
# SHIPGATE_PREVIOUS_PERCENT, SHIPGATE_SERVICE, SHIPGATE_ENVIRONMENT and
# SHIPGATE_VERSION set. Exit 0 when the traffic has moved; any other exit
# status (or running past hook_timeout) makes the watch roll back, since
# the canary's share is then unknown. The end of its output is kept
# (redacted) in the report and the decision log.
#
# Hooks get only PATH, HOME, the locale and the SHIPGATE_* values from the
# environment, plus what `[watch] hook_env` lists: TRAFFIC_BACKEND,
# NAMESPACE, FLAG and KUBECONFIG in examples/watch/shipgate.toml.
#
# TRAFFIC_BACKEND picks how traffic moves:
#   none    (the default) log what would be done and move nothing: try the
#           watch out before wiring a real backend
#   argo    Argo Rollouts (`kubectl argo rollouts set weight`)
#   flag    a percentage rollout behind a feature flag (`flagctl`)
#   script  the playbooks' own ./deploy.sh
set -eu

percent="${1:?usage: set-weight.sh PERCENT}"
backend="${TRAFFIC_BACKEND:-none}"

case "$backend" in
none)
  echo "TRAFFIC_BACKEND=none: would move $SHIPGATE_SERVICE $SHIPGATE_VERSION in" \
    "$SHIPGATE_ENVIRONMENT from $SHIPGATE_PREVIOUS_PERCENT% to $percent% of traffic;" \
    "nothing moved"
  exit 0
  ;;
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
  echo "unknown TRAFFIC_BACKEND=$backend: use none, argo, flag or script" >&2
  exit 2
  ;;
esac

echo "$SHIPGATE_SERVICE $SHIPGATE_VERSION: $SHIPGATE_PREVIOUS_PERCENT% -> $percent%"
