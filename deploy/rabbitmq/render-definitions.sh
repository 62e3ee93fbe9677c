#!/usr/bin/env bash
# Entry point of the rabbitmq container (docker-compose.yml). Writes the definitions that
# rabbitmq.conf imports at boot (definitions.template.json, filled in from the environment,
# so that no password is in the repository), then runs the image's own entrypoint.
#
#   render-definitions.sh rabbitmq-server   what the container runs
#   render-definitions.sh --print           the rendered JSON on stdout (tools/check_compose.py)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
template=${CLIKOPRO_DEFINITIONS_TEMPLATE:-$here/definitions.template.json}
target=${CLIKOPRO_DEFINITIONS_FILE:-/etc/rabbitmq/clikopro-definitions.json}
# Placeholders of the template (@NAME@), and those of them that also go into BROKER_URL.
names=(RABBITMQ_VHOST RABBITMQ_ADMIN_USER RABBITMQ_ADMIN_PASSWORD RABBITMQ_APP_USER RABBITMQ_APP_PASSWORD)
in_url=" RABBITMQ_VHOST RABBITMQ_APP_USER RABBITMQ_APP_PASSWORD "

fail() {
  echo "render-definitions: $*" >&2
  exit 64
}

render() {
  local text name value
  text=$(<"$template")
  for name in "${names[@]}"; do
    value=${!name:-}
    [[ -n $value ]] || fail "$name is not set"
    # Values go into JSON strings as they are: refuse what would need escaping.
    if [[ $value == *[\"\\]* || $value =~ [[:cntrl:]] ]]; then
      fail "$name contains a quote, a backslash or a control character"
    fi
    if [[ $in_url == *" $name "* && $value =~ [[:space:]:/@?#%] ]]; then
      fail "$name goes into BROKER_URL unencoded: use no space, ':', '/', '@', '?', '#' or '%'"
    fi
    text=${text//"@${name}@"/"$value"}
  done
  [[ $text != *@RABBITMQ_*@* ]] || fail "the template has a placeholder this script does not fill"
  printf '%s\n' "$text"
}

if [[ ${1:-} == --print ]]; then
  render
  exit 0
fi

umask 077
render >"$target.tmp"
mv -f "$target.tmp" "$target"
# The image's entrypoint starts the server as the rabbitmq user, who must read the file.
if [[ $(id -u) == 0 ]]; then
  chown rabbitmq:rabbitmq "$target"
fi
exec docker-entrypoint.sh "$@"
