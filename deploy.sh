#!/usr/bin/env bash
# Deploy the similarity functions to cloud.gov: build the model artifact if missing, push each function with a
# rolling deployment (cancelled if its push fails), and let the Node app reach each one over the internal network.
#
# Settings (flags win over environment variables):
#   -e ENV        DEPLOY_ENV   environment: the vars file vars/ENV.yml (e.g. dev, prod)
#   -o ORG        CF_ORG       cloud.gov organization
#   -s SPACE      CF_SPACE     space
#   -n NODE_APP   NODE_APP     the calling Node app, the source of the network policies
#   -V            OFFLINE=1    stage offline: `make vendor` first, so the buildpack installs from vendor/ alone
#   -P            PLAIN_HTTP=1 also allow plain HTTP on 8080 (the default allows only TLS on 61443)
# Optional non-interactive login (CI): CF_USERNAME and CF_PASSWORD (a space deployer's credentials), CF_API
# (default https://api.fr.cloud.gov). Without them, the current `cf login` session is used.
set -euo pipefail

USAGE="usage: deploy.sh -e ENV -o ORG -s SPACE -n NODE_APP [-V] [-P] [embed|compare|cluster ...]"
FUNCTIONS=(embed compare cluster)
# On an internal route, 61443 is the platform's TLS in front of the app; 8080 ($PORT) is the app in plain HTTP.
TLS_PORT=61443
PLAIN_PORT=8080

die() {
  echo "deploy.sh: $*" >&2
  exit 2
}

env_name="${DEPLOY_ENV:-}"
org="${CF_ORG:-}"
space="${CF_SPACE:-}"
node_app="${NODE_APP:-}"
offline="${OFFLINE:-}"
plain_http="${PLAIN_HTTP:-}"
while getopts "e:o:s:n:VPh" option; do
  case "$option" in
    e) env_name="$OPTARG" ;;
    o) org="$OPTARG" ;;
    s) space="$OPTARG" ;;
    n) node_app="$OPTARG" ;;
    V) offline=1 ;;
    P) plain_http=1 ;;
    h)
      echo "$USAGE"
      exit 0
      ;;
    *) die "$USAGE" ;;
  esac
done
shift $((OPTIND - 1))

cd "$(dirname "$0")"
[[ -n "$env_name" ]] || die "no environment: give -e ENV or DEPLOY_ENV ($USAGE)"
[[ -n "$org" ]] || die "no organization: give -o ORG or CF_ORG ($USAGE)"
[[ -n "$space" ]] || die "no space: give -s SPACE or CF_SPACE ($USAGE)"
[[ -n "$node_app" ]] || die "no Node app: give -n NODE_APP or NODE_APP ($USAGE)"
vars_file="vars/$env_name.yml"
[[ -f "$vars_file" ]] || die "no vars file $vars_file for environment '$env_name'"

selected=("$@")
[[ ${#selected[@]} -gt 0 ]] || selected=("${FUNCTIONS[@]}")
for function in "${selected[@]}"; do
  [[ " ${FUNCTIONS[*]} " == *" $function "* ]] || die "unknown function '$function': expected ${FUNCTIONS[*]}"
done

prefix="$(sed -n 's/^prefix: *//p' "$vars_file")"
key_service="$(sed -n 's/^key_service: *//p' "$vars_file")"
[[ -n "$prefix" && -n "$key_service" ]] || die "$vars_file must set prefix and key_service"

if [[ -n "${CF_USERNAME:-}" || -n "${CF_PASSWORD:-}" ]]; then
  [[ -n "${CF_USERNAME:-}" && -n "${CF_PASSWORD:-}" ]] || die "set both CF_USERNAME and CF_PASSWORD, or neither"
  cf api "${CF_API:-https://api.fr.cloud.gov}"
  cf auth # reads CF_USERNAME and CF_PASSWORD from the environment, keeping the password off the command line
fi
cf target -o "$org" -s "$space"
cf service "$key_service" >/dev/null ||
  die "no service '$key_service' in $org/$space: create it first (see README, Deploying)"

[[ -f models/all-MiniLM-L6-v2/provenance.json ]] || make --no-print-directory artifact
if [[ -n "$offline" ]]; then
  make --no-print-directory vendor
  echo "deploy.sh: staging offline from vendor/ ($(find vendor -name '*.whl' 2>/dev/null | wc -l) wheels)"
elif [[ -d vendor ]]; then
  echo "deploy.sh: vendor/ exists, so the buildpack installs from it alone (give -V to refresh it)"
fi

for function in "${selected[@]}"; do
  app="$prefix-$function"
  echo "deploy.sh: pushing $app"
  if ! cf push "$app" -f manifest.yml --vars-file "$vars_file" --strategy rolling; then
    echo "deploy.sh: push of $app failed; cancelling its deployment" >&2
    cf cancel-deployment "$app" || true
    exit 1
  fi
done

ports=("$TLS_PORT")
[[ -z "$plain_http" ]] || ports+=("$PLAIN_PORT")
policies="$(cf network-policies --source "$node_app")"
for function in "${selected[@]}"; do
  app="$prefix-$function"
  for port in "${ports[@]}"; do
    if grep -Eq "^${node_app}[[:space:]]+${app}[[:space:]]+tcp[[:space:]]+${port}([[:space:]]|$)" <<<"$policies"; then
      echo "deploy.sh: $node_app → $app:$port already allowed"
    else
      cf add-network-policy "$node_app" "$app" --protocol tcp --port "$port"
    fi
  done
done
echo "deploy.sh: done: ${selected[*]} in $org/$space ($env_name)"
