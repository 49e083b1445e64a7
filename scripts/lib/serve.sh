# Shell helpers the test scripts share (sourced, not run): a free loopback port, and a Rapport
# server started on one. The caller defines `fail MESSAGE` and sets BIN (the rapport binary) and
# PASSWORD (the first administrator's).

# A loopback port free at the moment of asking (another process may take it before us:
# start_server retries on "Address already in use").
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server DIR [rapport serve flags...]: starts `rapport serve` on a free port with its log in
# DIR/server.log; sets URL and SERVER_PID (also written to DIR/server.pid). The server counts as
# started only when it says it runs at that address (a port picked free could be answered by
# another process's server).
start_server() {
    local dir=$1 log=$1/server.log
    shift
    local attempt port
    for attempt in 1 2 3; do
        port=$(free_port)
        "$BIN" serve --listen "127.0.0.1:$port" --admin-password "$PASSWORD" "$@" >"$log" 2>&1 &
        SERVER_PID=$!
        echo "$SERVER_PID" >"$dir/server.pid"
        for _ in $(seq 1 300); do
            if grep -q "Rapport is running at http://127.0.0.1:$port" "$log"; then
                URL="http://127.0.0.1:$port"
                return 0
            fi
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
        grep -q "Address already in use" "$log" || break
    done
    echo "--- server log ($BIN serve $*)" >&2
    tail -n 40 "$log" >&2
    fail "the server did not start within 30 seconds or exited"
}
