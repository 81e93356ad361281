#!/usr/bin/env bash
# Fuzzes the reference server against its own OpenAPI document with schemathesis (every check), authenticated as a
# tenant admin. Exits non-zero on any failed check, any 5xx, or a server that does not stop cleanly on SIGTERM.
#
# Needs schemathesis on PATH (`pip install schemathesis==4.32.5`), curl and jq. Knobs (environment):
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation and phase (default: .ci/schemathesis.toml's, 8, and 60 stateful
#                              scenarios; the whole run stays under 5 minutes on 2 cores)
#   SCHEMATHESIS_SEED          the random seed (default fixed, so a CI run is reproducible; set another to explore)
# Arguments are passed on to `schemathesis run`, e.g. `.ci/schemathesis.sh --include-operation-id postJob`.
set -euo pipefail
cd "$(dirname "$0")/.."

max_examples=()
[[ -n "${SCHEMATHESIS_MAX_EXAMPLES:-}" ]] && max_examples=(--max-examples "$SCHEMATHESIS_MAX_EXAMPLES")
seed="${SCHEMATHESIS_SEED:-20260105}"

# Builds only what is missing.
swift build --product trades
trades="$(swift build --show-bin-path)/trades"

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
base="http://127.0.0.1:${port}"
server_pid=""

stop_server() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    local status=0
    wait "$server_pid" || status=$?
    server_pid=""
    return "$status"
  fi
  server_pid=""
}
cleanup() {
  stop_server || true
  rm -rf "$work"
}
trap cleanup EXIT

# Secrets for this run only; the operator token creates the tenant the run works in.
TRADESKIT_JWT_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n')"
TRADESKIT_OPERATOR_TOKEN="$(head -c 48 /dev/urandom | base64 | tr -d '\n')"
export TRADESKIT_JWT_SECRET TRADESKIT_OPERATOR_TOKEN

# bcrypt cost 4 keeps registrations and logins cheap; the per-IP limit is lifted, as every request comes from here.
start_server() {
  "$trades" serve --development --database "$work/trades.sqlite" --port "$port" --bcrypt-cost 4 --requests-per-ip 1000000 "$@" \
    >>"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 120); do
    if curl -fsS "$base/health" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.5
  done
  cat "$work/server.log" >&2
  echo "schemathesis.sh: the server did not start" >&2
  exit 1
}

# The demo tenant keeps the seed's limits (100 requests per user in 15 minutes), which a fuzzer spends in seconds: the
# run gets a tenant of its own with the limits lifted, and an admin, through the operator API.
start_server
admin_email="fuzz-admin@fuzz.example.com"
admin_password="$(head -c 24 /dev/urandom | base64 | tr -d '\n/+=')"
operator=(-H "Authorization: Bearer ${TRADESKIT_OPERATOR_TOKEN}" -H "Content-Type: application/json")
tenant_id="$(
  curl -fsS "${operator[@]}" "$base/v1/tenants" -d '{
    "slug": "fuzz", "displayName": "Fuzz Trades",
    "settings": {"currency": "USD", "platformFeeBasisPoints": 1000,
      "branding": {"name": "Fuzz Trades", "fromEmail": "hello@fuzz.example.com"},
      "policies": {"loginAttemptsPerWindow": 1000, "apiRequestsPerUserPerWindow": 1000000, "apiRequestsPerIPPerWindow": 1000000}}
  }' | jq -er .id
)"
curl -fsS "${operator[@]}" "$base/v1/tenants/${tenant_id}/admins" \
  -d "{\"email\": \"${admin_email}\", \"displayName\": \"Fuzz Admin\", \"password\": \"${admin_password}\"}" >/dev/null

# Served per tenant, the document is exact for it: amounts in its currency only (a shared server cannot say which).
stop_server
start_server --tenant fuzz
admin_token="$(
  curl -fsS -H "Content-Type: application/json" "$base/v1/auth/login" \
    -d "{\"email\": \"${admin_email}\", \"password\": \"${admin_password}\"}" | jq -er .accessToken
)"
# Registration answers 202 either way (no enumeration). The development server prints the e-mailed link once it is
# sent, after the answer; its token confirms the address, and the new account then signs in.
register() {
  local sent token=""
  sent="$(grep -c '^E-mail ' "$work/server.log" || true)"
  curl -fsS -o /dev/null -H "Content-Type: application/json" "$base/v1/auth/register" -d "{\"email\": \"$1@fuzz.example.com\",
    \"password\": \"${admin_password}\", \"displayName\": \"Fuzz $1\", \"role\": \"$1\"}"
  for _ in $(seq 100); do
    token="$(grep '^E-mail ' "$work/server.log" | sed -n "$((sent + 1))p" | grep -o 'token=[A-Za-z0-9_-]*' | head -n 1 || true)"
    [[ -z "$token" ]] || break
    sleep 0.1
  done
  if [[ -z "$token" ]]; then
    echo "schemathesis.sh: the server printed no verification link for the $1" >&2
    return 1
  fi
  curl -fsS -o /dev/null -H "Content-Type: application/json" "$base/v1/auth/verify-email" -d "{\"token\": \"${token#token=}\"}"
  curl -fsS -H "Content-Type: application/json" "$base/v1/auth/login" \
    -d "{\"email\": \"$1@fuzz.example.com\", \"password\": \"${admin_password}\"}" | jq -er .accessToken
}
homeowner_token="$(register homeowner)"
contractor_token="$(register contractor)"

# Each caller reaches its own part of the API: a homeowner jobs, messages and disputes; a contractor its profile and
# bids; an admin the admin routes. The coverage phase (every boundary and malformed value of every parameter, the
# longest) runs once, as the homeowner: bodies and queries are checked before any role is. Access tokens live 15
# minutes; the runs together stay well below that.
status=0
for caller in homeowner contractor admin; do
  token_variable="${caller}_token"
  phases="examples,coverage,fuzzing,stateful"
  [[ "$caller" == homeowner ]] || phases="fuzzing,stateful"
  echo "schemathesis.sh: fuzzing as the ${caller} (${phases})"
  timeout 600 schemathesis --config-file .ci/schemathesis.toml run "$base/openapi.json" \
    --checks all \
    --header "Authorization: Bearer ${!token_variable}" \
    --header "X-Tenant: fuzz" \
    --phases "$phases" \
    "${max_examples[@]}" \
    --seed "$seed" \
    --generation-database none \
    --request-timeout 10 \
    --no-color \
    "$@" \
    || status=$?
done

# The access log has one JSON line per request; any 5xx fails the run, whatever the checks said.
server_errors="$(jq -Rc 'fromjson? | select((.["tradeskit.status"] // "" | tostring) | startswith("5"))' "$work/server.log")"
if [[ -n "$server_errors" ]]; then
  echo "schemathesis.sh: the server answered 5xx:" >&2
  echo "$server_errors" | tail -20 >&2
  status=1
fi

stop_status=0
stop_server || stop_status=$?
if [[ "$stop_status" -ne 0 ]]; then
  echo "schemathesis.sh: the server exited with $stop_status on SIGTERM" >&2
  status=1
fi
if [[ "$status" -ne 0 ]]; then
  echo "schemathesis.sh: FAILED (server log: last lines follow)" >&2
  tail -20 "$work/server.log" >&2
fi
exit "$status"
